# Four roles, each with only what its code calls:
#   workers     Dagster pods (code server, daemon, run pods) via IRSA: read raw, write the storage root,
#               start and follow SageMaker Processing/training jobs and the policy endpoint, pass the three
#               SageMaker roles below and nothing else
#   processing  SageMaker Processing jobs (python -m refinery.runners.processing_entry): what a datatrove
#               task reads and writes
#   training    SageMaker training jobs: read the round's `train` channel, write model artifacts
#   execution   SageMaker models/endpoints serving the policy: read model artifacts

locals {
  oidc_host      = replace(var.eks_oidc_provider_url, "https://", "")
  storage_arn    = aws_s3_bucket.storage.arn
  root_objects   = "${aws_s3_bucket.storage.arn}/${local.root}*"
  rounds_objects = "${aws_s3_bucket.storage.arn}/${local.root}preference/rounds/*"
  models_objects = "${aws_s3_bucket.storage.arn}/${local.root}preference/models/*"
  # where the SageMaker SDK should upload job code (its session's default_bucket/default_bucket_prefix)
  code_objects   = "${aws_s3_bucket.storage.arn}/${local.root}code/*"
  ecr_pull_repos = concat([aws_ecr_repository.refinery.arn], var.training_image_repository_arns)
  log_group_arn  = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:/aws/sagemaker"
}

resource "aws_ecr_repository" "refinery" {
  name                 = var.name_prefix
  image_tag_mutability = "IMMUTABLE" # a run's image tag must always mean the same image
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.data.arn
  }
  image_scanning_configuration {
    scan_on_push = true
  }
}

# ---- shared statements ------------------------------------------------------------------------------

data "aws_iam_policy_document" "kms_use" {
  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.data.arn]
  }
}

data "aws_iam_policy_document" "ecr_pull" {
  statement {
    actions   = ["ecr:GetAuthorizationToken"] # has no resource-level scope
    resources = ["*"]
  }
  statement {
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = local.ecr_pull_repos
  }
}

data "aws_iam_policy_document" "sagemaker_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
    # confused deputy: only SageMaker acting for this account
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# ---- Dagster workers (IRSA) ------------------------------------------------------------------------

data "aws_iam_policy_document" "workers_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.eks_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = ["system:serviceaccount:${var.k8s_namespace}:${var.k8s_service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "workers" {
  source_policy_documents = [data.aws_iam_policy_document.kms_use.json]
  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.raw.arn, local.storage_arn]
  }
  statement {
    sid       = "ReadRawDrops"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.raw.arn}/*"]
  }
  statement {
    sid = "WriteStorageRoot"
    # datatrove overwrites its outputs on a re-run and the stages delete their scratch
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [local.root_objects]
  }
  statement {
    sid = "SageMakerJobsAndPolicyEndpoint"
    actions = [
      "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
      "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
      "sagemaker:CreateModel", "sagemaker:DescribeModel",
      "sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig",
      "sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint",
      "sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint", "sagemaker:AddTags",
    ]
    # every name the code makes starts with name_prefix (training.endpoint_name: refinery-policy, ...)
    resources = [for kind in ["processing-job", "training-job", "model", "endpoint-config", "endpoint"] :
    "${local.sagemaker_arn}:${kind}/${var.name_prefix}*"]
  }
  statement {
    sid       = "SageMakerListings" # List* have no resource-level scope
    actions   = ["sagemaker:ListProcessingJobs", "sagemaker:ListTrainingJobs"]
    resources = ["*"]
  }
  statement {
    sid       = "FollowJobLogs"
    actions   = ["logs:GetLogEvents", "logs:DescribeLogStreams"]
    resources = ["${local.log_group_arn}/ProcessingJobs:*", "${local.log_group_arn}/TrainingJobs:*"]
  }
  statement {
    sid       = "PassOnlyTheSageMakerRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.processing.arn, aws_iam_role.training.arn, aws_iam_role.execution.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["sagemaker.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "workers" {
  name               = "${var.name_prefix}-dagster-workers"
  assume_role_policy = data.aws_iam_policy_document.workers_trust.json
}

resource "aws_iam_role_policy" "workers" {
  role   = aws_iam_role.workers.id
  policy = data.aws_iam_policy_document.workers.json
}

# ---- SageMaker Processing jobs -----------------------------------------------------------------------

data "aws_iam_policy_document" "processing" {
  source_policy_documents = [data.aws_iam_policy_document.kms_use.json, data.aws_iam_policy_document.ecr_pull.json]
  statement {
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.raw.arn, local.storage_arn]
  }
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.raw.arn}/*"]
  }
  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [local.root_objects]
  }
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:CreateLogGroup", "logs:DescribeLogStreams"]
    resources = ["${local.log_group_arn}/ProcessingJobs:*"]
  }
  statement {
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/ProcessingJobs"]
    }
  }
}

resource "aws_iam_role" "processing" {
  name               = "${var.name_prefix}-sagemaker-processing"
  assume_role_policy = data.aws_iam_policy_document.sagemaker_trust.json
}

resource "aws_iam_role_policy" "processing" {
  role   = aws_iam_role.processing.id
  policy = data.aws_iam_policy_document.processing.json
}

# ---- SageMaker training jobs -------------------------------------------------------------------------

data "aws_iam_policy_document" "training" {
  source_policy_documents = [data.aws_iam_policy_document.kms_use.json, data.aws_iam_policy_document.ecr_pull.json]
  statement {
    actions   = ["s3:ListBucket"]
    resources = [local.storage_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.root}preference/rounds/*", "${local.root}preference/models/*", "${local.root}code/*"]
    }
  }
  statement {
    sid       = "ReadTrainChannelAndCode"
    actions   = ["s3:GetObject"]
    resources = [local.rounds_objects, local.code_objects]
  }
  statement {
    sid       = "WriteModelArtifacts"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [local.models_objects]
  }
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:CreateLogGroup", "logs:DescribeLogStreams"]
    resources = ["${local.log_group_arn}/TrainingJobs:*"]
  }
  statement {
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/TrainingJobs"]
    }
  }
  statement {
    # a job reading FSx for Lustre runs in the VPC: SageMaker attaches an ENI with these
    sid = "VpcForFSx"
    actions = [
      "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
      "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
      "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
    ]
    resources = ["*"]
  }
  statement {
    actions   = ["fsx:DescribeFileSystems"]
    resources = [aws_fsx_lustre_file_system.storage.arn]
  }
}

resource "aws_iam_role" "training" {
  name               = "${var.name_prefix}-sagemaker-training"
  assume_role_policy = data.aws_iam_policy_document.sagemaker_trust.json
}

resource "aws_iam_role_policy" "training" {
  role   = aws_iam_role.training.id
  policy = data.aws_iam_policy_document.training.json
}

# ---- SageMaker execution role of the policy model/endpoint ------------------------------------------

data "aws_iam_policy_document" "execution" {
  source_policy_documents = [data.aws_iam_policy_document.kms_use.json, data.aws_iam_policy_document.ecr_pull.json]
  statement {
    actions   = ["s3:GetObject"]
    resources = [local.models_objects]
  }
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:CreateLogGroup", "logs:DescribeLogStreams"]
    resources = ["${local.log_group_arn}/Endpoints/*"]
  }
  statement {
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/Endpoints"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name_prefix}-sagemaker-execution"
  assume_role_policy = data.aws_iam_policy_document.sagemaker_trust.json
}

resource "aws_iam_role_policy" "execution" {
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}
