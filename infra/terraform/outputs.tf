output "raw_uri" {
  description = "REFINERY_RAW"
  value       = "s3://${aws_s3_bucket.raw.bucket}/"
}

output "storage_root_uri" {
  description = "REFINERY_ROOT"
  value       = "s3://${aws_s3_bucket.storage.bucket}/${local.root}"
}

output "kms_key_arn" {
  value = aws_kms_key.data.arn
}

output "fsx_file_system_id" {
  value = aws_fsx_lustre_file_system.storage.id
}

output "fsx_mount" {
  description = "mount -t lustre <dns>@tcp:/<mount name>/refinery: the storage root as files"
  value       = "${aws_fsx_lustre_file_system.storage.dns_name}@tcp:/${aws_fsx_lustre_file_system.storage.mount_name}${aws_fsx_data_repository_association.storage.file_system_path}"
}

output "fsx_security_group_id" {
  value = aws_security_group.fsx.id
}

output "ecr_repository_url" {
  description = "push infra/docker's image here; helm values dagster-user-deployments image.repository"
  value       = aws_ecr_repository.refinery.repository_url
}

output "workers_role_arn" {
  description = "helm values serviceAccount.annotations eks.amazonaws.com/role-arn"
  value       = aws_iam_role.workers.arn
}

output "processing_role_arn" {
  description = "the SageMaker Processing runner's role"
  value       = aws_iam_role.processing.arn
}

output "training_role_arn" {
  description = "training.role_arn / REFINERY_SAGEMAKER_ROLE"
  value       = aws_iam_role.training.arn
}

output "execution_role_arn" {
  description = "SageMaker model (policy endpoint) execution role"
  value       = aws_iam_role.execution.arn
}
