variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "availability_zone" {
  description = "Availability zone for the instance and its data volume (an EBS volume attaches only within its zone)."
  type        = string
  default     = "us-east-1a"
}

variable "instance_type" {
  description = "Instance type. The seed stack ran on c3.xlarge; c5.xlarge is its current 4 vCPU equivalent."
  type        = string
  default     = "c5.xlarge"
}

variable "subnet_id" {
  description = "Subnet (in availability_zone) for the instance; empty = the default VPC's default subnet in that zone."
  type        = string
  default     = ""
}

variable "key_name" {
  description = "EC2 key pair for SSH; empty = no key (use SSM or the serial console)."
  type        = string
  default     = ""
}

variable "data_volume_size_gb" {
  description = "Size of the data volume in GiB. Grow it later without data loss (docs/operations.md)."
  type        = number
  default     = 100
}

variable "data_volume_type" {
  description = "EBS type of the data volume."
  type        = string
  default     = "gp3"
}

variable "data_volume_iops" {
  description = "Provisioned IOPS of the gp3 data volume (3000 is gp3's baseline)."
  type        = number
  default     = 3000
}

variable "data_volume_throughput" {
  description = "Provisioned throughput of the gp3 data volume in MiB/s (125 is gp3's baseline)."
  type        = number
  default     = 125
}

variable "plumbago_version" {
  description = "Release of plumbago to install (a tag of the GitHub releases)."
  type        = string
  default     = "latest"
}

variable "plumbago_download_url" {
  description = "URL of the linux-amd64 plumbago binary; empty = the GitHub release for plumbago_version."
  type        = string
  default     = ""
}

variable "ingest_cidrs" {
  description = "Networks allowed to send carbon (2003/tcp+udp, 2004) and statsd (8125/udp+tcp, 8126) traffic."
  type        = list(string)
  default     = ["10.0.0.0/8"]
}

variable "query_cidrs" {
  description = "Networks allowed to query the Graphite API on 8080 (Grafana)."
  type        = list(string)
  default     = ["10.0.0.0/8"]
}

variable "ssh_cidrs" {
  description = "Networks allowed to SSH (22/tcp); empty = no SSH rule."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
