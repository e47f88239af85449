# FSx for Lustre linked to the storage bucket: training jobs (and pods that mount it) read the storage root
# as a POSIX file system; files load lazily from S3 and writes are exported back.

resource "aws_security_group" "fsx" {
  name        = "${var.name_prefix}-fsx"
  description = "Lustre clients to FSx"
  vpc_id      = var.vpc_id
}

# Lustre: 988 for the servers, 1018-1023 for the clients; both ways within the group and from the clients
resource "aws_vpc_security_group_ingress_rule" "lustre_clients" {
  for_each          = { for pair in setproduct(var.client_cidr_blocks, [[988, 988], [1018, 1023]]) : "${pair[0]}:${pair[1][0]}" => pair }
  security_group_id = aws_security_group.fsx.id
  cidr_ipv4         = each.value[0]
  ip_protocol       = "tcp"
  from_port         = each.value[1][0]
  to_port           = each.value[1][1]
}

resource "aws_vpc_security_group_ingress_rule" "lustre_self" {
  for_each                     = { "988" = [988, 988], "1018" = [1018, 1023] }
  security_group_id            = aws_security_group.fsx.id
  referenced_security_group_id = aws_security_group.fsx.id
  ip_protocol                  = "tcp"
  from_port                    = each.value[0]
  to_port                      = each.value[1]
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.fsx.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

resource "aws_fsx_lustre_file_system" "storage" {
  storage_capacity            = var.fsx_storage_capacity_gib
  subnet_ids                  = [var.subnet_id]
  security_group_ids          = [aws_security_group.fsx.id]
  deployment_type             = "PERSISTENT_2" # data repository associations need PERSISTENT_2
  per_unit_storage_throughput = var.fsx_throughput_per_tib
  kms_key_id                  = aws_kms_key.data.arn
  data_compression_type       = "LZ4"
  tags = {
    Name = "${var.name_prefix}-storage"
  }
}

resource "aws_fsx_data_repository_association" "storage" {
  file_system_id                   = aws_fsx_lustre_file_system.storage.id
  data_repository_path             = "s3://${aws_s3_bucket.storage.bucket}/${local.root}"
  file_system_path                 = "/refinery"
  batch_import_meta_data_on_create = true
  s3 {
    auto_import_policy {
      events = ["NEW", "CHANGED", "DELETED"]
    }
    auto_export_policy {
      events = ["NEW", "CHANGED", "DELETED"]
    }
  }
}
