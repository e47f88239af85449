terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
  }
}

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = var.tags
  }
}

# Account, partition and region come from the credentials in use: nothing account-specific is written here.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # default bucket names carry the account id (S3 names are global)
  raw_bucket     = coalesce(var.raw_bucket_name, "${var.name_prefix}-raw-${local.account_id}")
  storage_bucket = coalesce(var.storage_bucket_name, "${var.name_prefix}-storage-${local.account_id}")
  # the storage root inside the bucket (REFINERY_ROOT = s3://<storage bucket>/<storage_prefix>)
  root          = var.storage_prefix == "" ? "" : "${trimsuffix(var.storage_prefix, "/")}/"
  sagemaker_arn = "arn:${local.partition}:sagemaker:${var.aws_region}:${local.account_id}"
}
