output "instance_id" {
  description = "ID of the Plumbago instance."
  value       = aws_instance.plumbago.id
}

output "public_ip" {
  description = "Public address of the instance."
  value       = aws_instance.plumbago.public_ip
}

output "private_ip" {
  description = "Private address (what statsd clients and relays inside the VPC should use)."
  value       = aws_instance.plumbago.private_ip
}

output "graphite_url" {
  description = "URL for Grafana's Graphite data source (version 1.1)."
  value       = "http://${aws_instance.plumbago.public_ip}:8080"
}

output "carbon_address" {
  description = "carbon plaintext endpoint (TCP and UDP)."
  value       = "${aws_instance.plumbago.private_ip}:2003"
}

output "statsd_address" {
  description = "statsd endpoint (UDP and TCP)."
  value       = "${aws_instance.plumbago.private_ip}:8125"
}

output "data_volume_id" {
  description = "The EBS data volume that survives instance replacement."
  value       = aws_ebs_volume.data.id
}
