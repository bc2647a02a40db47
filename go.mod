module github.com/kmsmodel/kmsmodel

go 1.26.0

require (
	filippo.io/mldsa v1.0.0 // ML-DSA: the Go standard library's own implementation, extracted by Filippo Valsorda; becomes a type-alias wrapper of crypto/mldsa in Go 1.27; signs an external μ (EXTERNAL_MU), which circl v1.6.5 cannot; crypto/mldsa is not in Go 1.26
	github.com/anishathalye/porcupine v1.3.1 // tests only: the usual Go linearizability checker (Jepsen's Knossos algorithm, P-compositionality), no dependencies of its own
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/credentials v1.21.0
	github.com/aws/aws-sdk-go-v2/service/kms v1.62.6
	github.com/aws/smithy-go v1.28.9
	github.com/cloudflare/circl v1.6.5 // ML-KEM (kem/mlkem): crypto/mlkem has no ML-KEM-512, and its Encapsulate takes no caller randomness (a seeded service must reproduce); maintained by Cloudflare, widely depended upon
	github.com/decred/dcrd/dcrec/secp256k1/v4 v4.4.1 // secp256k1: small, constant-time, fast; btcec/v2 is a thin wrapper over it and go-ethereum's needs cgo or drags a large module
	github.com/emmansun/gmsm v0.44.1 // SM2/SM3: actively maintained, follows crypto/ecdsa design, asm-accelerated; tjfoc/gmsm has been unmaintained since 2022
	github.com/fxamacker/cbor/v2 v2.10.0 // CBOR for Nitro attestation documents (kms/attestation): a decoder hardened for untrusted input (limits on nesting, lengths, duplicate map keys), widely used by Nitro attestation verifiers
	github.com/looplab/fsm v1.0.3
	go.etcd.io/bbolt v1.5.0 // v1.5.0 rather than v1.4.3: etcd server v3.7.3 requires it; boltstore's file format and API use are unchanged
	go.etcd.io/etcd/api/v3 v3.7.3 // etcd's error codes (rpctypes) and event types, with the client
	go.etcd.io/etcd/client/v3 v3.7.3 // store/etcdstore: the official etcd client (txn with compares, watch, linearizable reads); only that adapter links it
	go.etcd.io/etcd/server/v3 v3.7.3 // internal/etcdtest only: embedded etcd members for tests, so that tests need no etcd binary
	go.uber.org/zap v1.27.1 // etcd's logger type: etcdstore and etcdtest pass zap.NewNop() to keep the client and members quiet
	golang.org/x/net v0.61.0 // already the etcd client's (through grpc): etcdstore frames its revision reads with http2.Framer and hpack
	google.golang.org/grpc v1.83.2 // the etcd client's transport: etcdstore reads its status codes (a request too large)
	google.golang.org/protobuf v1.36.11 // already the etcd client's: etcdstore encodes its revision reads' RangeRequest and decodes the RangeResponse
	pgregory.net/rapid v1.3.0
)

require (
	github.com/BurntSushi/toml v1.4.1-0.20240526193622-a339e1f7089c // indirect
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.12 // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cenkalti/backoff/v5 v5.0.3 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/coreos/go-semver v0.3.1 // indirect
	github.com/coreos/go-systemd/v22 v22.7.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus v1.1.0 // indirect
	github.com/grpc-ecosystem/go-grpc-middleware/v2 v2.3.3 // indirect
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.29.0 // indirect
	github.com/jonboulle/clockwork v0.5.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_golang v1.23.2 // indirect
	github.com/prometheus/client_model v0.6.2 // indirect
	github.com/prometheus/common v0.67.5 // indirect
	github.com/prometheus/procfs v0.16.1 // indirect
	github.com/sirupsen/logrus v1.9.4 // indirect
	github.com/soheilhy/cmux v0.1.5 // indirect
	github.com/spf13/pflag v1.0.10 // indirect
	github.com/tmc/grpc-websocket-proxy v0.0.0-20220101234140-673ab2c3ae75 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	github.com/xiang90/probing v0.0.0-20221125231312-a49e3df8f510 // indirect
	go.etcd.io/etcd/client/pkg/v3 v3.7.3 // indirect
	go.etcd.io/etcd/pkg/v3 v3.7.3 // indirect
	go.etcd.io/raft/v3 v3.7.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc v0.68.0 // indirect
	go.opentelemetry.io/otel v1.45.0 // indirect
	go.opentelemetry.io/otel/exporters/otlp/otlptrace v1.45.0 // indirect
	go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc v1.45.0 // indirect
	go.opentelemetry.io/otel/metric v1.45.0 // indirect
	go.opentelemetry.io/otel/sdk v1.45.0 // indirect
	go.opentelemetry.io/otel/trace v1.45.0 // indirect
	go.opentelemetry.io/proto/otlp v1.11.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.yaml.in/yaml/v2 v2.4.3 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/exp/typeparams v0.0.0-20231108232855-2478ac86f678 // indirect
	golang.org/x/mod v0.41.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	golang.org/x/time v0.15.0 // indirect
	golang.org/x/tools v0.51.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20260803160001-6ac0973c030d // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260803160001-6ac0973c030d // indirect
	gopkg.in/natefinch/lumberjack.v2 v2.2.1 // indirect
	honnef.co/go/tools v0.8.2 // indirect
	k8s.io/utils v0.0.0-20260108192941-914a6e750570 // indirect
	sigs.k8s.io/yaml v1.6.0 // indirect
)

tool honnef.co/go/tools/cmd/staticcheck
