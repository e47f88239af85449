variable "aws_region" {
  type        = string
  description = "Region of every resource, SageMaker jobs included."
}

variable "name_prefix" {
  type        = string
  default     = "refinery"
  description = "Prefix of resource names; SageMaker job, model and endpoint names must start with it (IAM scopes on it)."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags on every resource."
}

variable "raw_bucket_name" {
  type        = string
  default     = null
  description = "Bucket for raw drops (REFINERY_RAW); default <name_prefix>-raw-<account id>."
}

variable "storage_bucket_name" {
  type        = string
  default     = null
  description = "Bucket of the storage root (REFINERY_ROOT); default <name_prefix>-storage-<account id>."
}

variable "storage_prefix" {
  type        = string
  default     = ""
  description = "Storage root inside the storage bucket, e.g. \"refinery\"; empty = bucket root."
}

variable "kms_deletion_window_days" {
  type    = number
  default = 30
}

variable "noncurrent_version_expiration_days" {
  type        = number
  default     = 30
  description = "Old versions of overwritten or deleted objects are kept this long (both buckets)."
}

variable "state_expiration_days" {
  type        = number
  default     = 90
  description = "Objects under the state_prefixes (stage markers, datatrove logs, scratch) expire after this."
}

variable "state_prefixes" {
  type        = list(string)
  default     = ["sft/_state/", "preference/_state/", "preference/logs/"]
  description = "Prefixes under the storage root holding state and logs. S3 lifecycle filters are literal prefixes, so corpus/<drop>/_state/ cannot be matched per drop; the noncurrent-version rule covers it."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the EKS cluster, FSx and SageMaker jobs."
}

variable "subnet_id" {
  type        = string
  description = "One private subnet: FSx for Lustre lives in a single AZ; put training jobs there too."
}

variable "client_cidr_blocks" {
  type        = list(string)
  description = "CIDRs allowed to mount FSx (the EKS nodes' and SageMaker jobs' subnets)."
}

variable "fsx_storage_capacity_gib" {
  type        = number
  default     = 1200
  description = "PERSISTENT_2: 1200 GiB or a multiple of 2400."
}

variable "fsx_throughput_per_tib" {
  type        = number
  default     = 250
  description = "MB/s per TiB of storage: 125, 250, 500 or 1000."
}

variable "eks_oidc_provider_arn" {
  type        = string
  description = "IAM OIDC provider of the EKS cluster (IRSA)."
}

variable "eks_oidc_provider_url" {
  type        = string
  description = "Issuer URL of that provider, with or without https://."
}

variable "k8s_namespace" {
  type    = string
  default = "dagster"
}

variable "k8s_service_account" {
  type        = string
  default     = "dagster"
  description = "Service account of the Dagster pods (helm values serviceAccount.name); run pods use it too."
}

variable "training_image_repository_arns" {
  type        = list(string)
  default     = []
  description = "ECR repositories of training/inference images besides ours, e.g. the Hugging Face DLCs of the region."
}
