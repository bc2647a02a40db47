module github.com/kmsmodel/kmsmodel

go 1.26.0

require (
	filippo.io/mldsa v1.0.0 // ML-DSA: the Go standard library's own implementation, extracted by Filippo Valsorda; becomes a type-alias wrapper of crypto/mldsa in Go 1.27; signs an external μ (EXTERNAL_MU), which circl v1.6.5 cannot; crypto/mldsa is not in Go 1.26
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/credentials v1.21.0
	github.com/aws/aws-sdk-go-v2/service/kms v1.62.6
	github.com/aws/smithy-go v1.28.9
	github.com/decred/dcrd/dcrec/secp256k1/v4 v4.4.1 // secp256k1: small, constant-time, fast; btcec/v2 is a thin wrapper over it and go-ethereum's needs cgo or drags a large module
	github.com/emmansun/gmsm v0.30.0 // SM2/SM3: actively maintained, follows crypto/ecdsa design, asm-accelerated; tjfoc/gmsm has been unmaintained since 2022
	github.com/looplab/fsm v1.0.3
	go.etcd.io/bbolt v1.4.3
	pgregory.net/rapid v1.3.0
)

require (
	github.com/BurntSushi/toml v1.4.1-0.20240526193622-a339e1f7089c // indirect
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.12 // indirect
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/exp/typeparams v0.0.0-20231108232855-2478ac86f678 // indirect
	golang.org/x/mod v0.41.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/tools v0.51.0 // indirect
	honnef.co/go/tools v0.8.2 // indirect
)

tool honnef.co/go/tools/cmd/staticcheck
