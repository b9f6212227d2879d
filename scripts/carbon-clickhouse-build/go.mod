module plumbago.invalid/carbonclickhousebuild

go 1.26.0

require github.com/lomik/carbon-clickhouse v0.11.0

require (
	github.com/BurntSushi/toml v0.3.0 // indirect
	github.com/frankban/quicktest v1.14.6 // indirect
	github.com/gogo/protobuf v1.0.0 // indirect
	github.com/golang/glog v1.2.5 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	github.com/golang/snappy v1.0.0 // indirect
	github.com/lomik/graphite-pickle v0.0.0-20171221213606-614e8df42119 // indirect
	github.com/lomik/og-rek v0.0.0-20170411191824-628eefeb8d80 // indirect
	github.com/lomik/stop v0.0.0-20161127103810-188e98d969bd // indirect
	github.com/lomik/zapwriter v0.0.0-20180906104450-2ec2b9a61680 // indirect
	github.com/pierrec/lz4 v2.6.1+incompatible // indirect
	github.com/pkg/errors v0.9.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.7.1 // indirect
	golang.org/x/net v0.63.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261123191846-1e707ab9fbc2 // indirect
	google.golang.org/grpc v1.9.2 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
