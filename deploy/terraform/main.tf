# One Plumbago instance with its data on a separate EBS volume. The volume is
# its own resource with prevent_destroy, so replacing or terminating the
# instance (new AMI, new instance type, `terraform taint`) keeps the data:
# the new instance's cloud-init mounts the same volume and starts Plumbago.

locals {
  name         = "plumbago"
  download_url = var.plumbago_download_url != "" ? var.plumbago_download_url : (var.plumbago_version == "latest" ? "https://github.com/plumbago/plumbago/releases/latest/download/plumbago-linux-amd64" : "https://github.com/plumbago/plumbago/releases/download/${var.plumbago_version}/plumbago-linux-amd64")
  common_tags  = merge({ Name = local.name, Application = "plumbago" }, var.tags)
  # Nitro instances (c5 and later) expose EBS volumes as NVMe devices; the
  # volume ID (without the dash) is the device's serial number, which
  # cloud-init uses to find the right disk.
  data_volume_serial = replace(aws_ebs_volume.data.id, "-", "")
  # Every listener, with the networks allowed to reach it.
  listeners = {
    carbon_tcp   = { description = "carbon plaintext (TCP)", protocol = "tcp", port = 2003, cidrs = var.ingest_cidrs }
    carbon_udp   = { description = "carbon plaintext (UDP)", protocol = "udp", port = 2003, cidrs = var.ingest_cidrs }
    pickle       = { description = "carbon pickle", protocol = "tcp", port = 2004, cidrs = var.ingest_cidrs }
    statsd_udp   = { description = "statsd (UDP)", protocol = "udp", port = 8125, cidrs = var.ingest_cidrs }
    statsd_tcp   = { description = "statsd (TCP)", protocol = "tcp", port = 8125, cidrs = var.ingest_cidrs }
    statsd_admin = { description = "statsd admin console", protocol = "tcp", port = 8126, cidrs = var.ingest_cidrs }
    http         = { description = "Graphite API, /metrics, /healthz", protocol = "tcp", port = 8080, cidrs = var.query_cidrs }
    ssh          = { description = "SSH", protocol = "tcp", port = 22, cidrs = var.ssh_cidrs }
  }
  # One entry per listener and network, keyed "listener cidr".
  ingress_rules = merge([
    for name, l in local.listeners : {
      for cidr in l.cidrs : "${name} ${cidr}" => { description = l.description, protocol = l.protocol, port = l.port, cidr = cidr }
    }
  ]...)
}

data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"] # Debian

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

data "aws_vpc" "default" {
  default = true
}

data "aws_subnet" "selected" {
  id                = var.subnet_id != "" ? var.subnet_id : null
  vpc_id            = var.subnet_id == "" ? data.aws_vpc.default.id : null
  availability_zone = var.availability_zone
  default_for_az    = var.subnet_id == "" ? true : null
}

resource "aws_security_group" "plumbago" {
  name_prefix = "${local.name}-"
  description = "Plumbago: carbon, pickle, statsd, statsd admin and the Graphite API"
  vpc_id      = data.aws_subnet.selected.vpc_id
  tags        = local.common_tags

  lifecycle {
    create_before_destroy = true
  }
}

# One ingress rule per listener and allowed network.
resource "aws_vpc_security_group_ingress_rule" "listener" {
  for_each          = local.ingress_rules
  security_group_id = aws_security_group.plumbago.id
  description       = each.value.description
  ip_protocol       = each.value.protocol
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.plumbago.id
  description       = "package and binary downloads"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_ebs_volume" "data" {
  availability_zone = var.availability_zone
  size              = var.data_volume_size_gb
  type              = var.data_volume_type
  iops              = var.data_volume_type == "gp3" ? var.data_volume_iops : null
  throughput        = var.data_volume_type == "gp3" ? var.data_volume_throughput : null
  encrypted         = true
  tags              = merge(local.common_tags, { Name = "${local.name}-data" })

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_instance" "plumbago" {
  ami                         = data.aws_ami.debian.id
  instance_type               = var.instance_type
  availability_zone           = var.availability_zone
  subnet_id                   = data.aws_subnet.selected.id
  vpc_security_group_ids      = [aws_security_group.plumbago.id]
  key_name                    = var.key_name != "" ? var.key_name : null
  associate_public_ip_address = true
  user_data_replace_on_change = true
  user_data = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    data_volume_serial = local.data_volume_serial
    download_url       = local.download_url
    service_unit       = file("${path.module}/../systemd/plumbago.service")
    config_toml        = file("${path.module}/../systemd/plumbago.toml")
  })

  root_block_device {
    volume_type = "gp3"
    volume_size = 20
    encrypted   = true
  }

  metadata_options {
    http_tokens = "required"
  }

  tags = local.common_tags
}

# The attachment, not the instance, ties the volume to a host: replacing the
# instance detaches the volume (stop_instance_before_detaching lets plumbago
# drain on SIGTERM first) and attaches it to the new one.
resource "aws_volume_attachment" "data" {
  device_name                    = "/dev/sdf"
  volume_id                      = aws_ebs_volume.data.id
  instance_id                    = aws_instance.plumbago.id
  stop_instance_before_detaching = true
}
