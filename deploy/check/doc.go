// Package check verifies the deployment files in deploy/ without a Docker
// engine, Terraform or a cloud account: it parses the Dockerfile and runs its
// build stage's commands, checks the compose file, the Grafana provisioning
// and dashboard (against the metric names a real plumbago process serves on
// /metrics), the systemd unit and the Terraform example (HCL syntax,
// formatting, references, the cloud-init template).
//
// The package's non-test code is the small parsers those tests need: a
// Dockerfile reader, a .dockerignore matcher and a PromQL selector scanner.
package check
