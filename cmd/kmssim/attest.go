package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kmsmodel/kmsmodel/kms/attestation"
)

const attestHelp = `Usage: kmssim attest --seed N (--root | --public-key FILE [flags])

Make Nitro Enclaves attestation documents (or, with --nitrotpm, an EC2
instance's NitroTPM documents) for trying the Recipient parameter
(decision D80) outside an enclave. Real AWS KMS, and kmssim serve
by default, accept only documents signed by AWS's Nitro PKI, which only a
real enclave's Nitro Secure Module can get; attest plays a simulated
module instead, with a root certificate of its own that serve is told to
trust. The module is made from --seed: the same seed is the same module,
so its root can be written once and documents made later.

	kmssim attest --seed 7 --root > module-root.pem
	kmssim serve --mem --attestation-root module-root.pem &
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out enclave.pem
	openssl pkey -in enclave.pem -pubout -out enclave.pub.pem
	kmssim attest --seed 7 --public-key enclave.pub.pem --pcr 0=$(printf 'ab%.0s' $(seq 48)) > doc.cbor

Then pass doc.cbor as the Recipient's AttestationDocument from an AWS SDK
(AWS CLI version 2 takes it base64-encoded; version 1 cannot send it, as
it base64-encodes the text given for a blob inside a structure), write
the response's CiphertextForRecipient to a file, and open it with the
enclave's key:

	openssl cms -decrypt -inform DER -in for-enclave.der -inkey enclave.pem

The document (raw CBOR, as the Nitro Secure Module returns it) goes to
standard output or --out. Its signing certificate is valid for three hours
from --at, as a real module's is: give serve's clock instant when serve
runs with --clock manual.
`

// attestConfig is the attest command's parsed flags.
type attestConfig struct {
	seed      uint64
	root      bool
	publicKey string
	at        time.Time
	moduleID  string
	pcrs      map[int][]byte
	userData  []byte
	nonce     []byte
	nitroTPM  bool
	out       string
}

// moduleStart is when every attest module's certificates start: their
// roots are valid for 30 years from it.
var moduleStart = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// attest runs the attest command.
func attest(args []string, stdout, stderr io.Writer) int {
	c := attestConfig{pcrs: map[int][]byte{}}
	fs := flag.NewFlagSet("attest", flag.ContinueOnError)
	fs.Uint64Var(&c.seed, "seed", 0, "the simulated module's `seed` (not 0): the same seed is the same module and root")
	fs.BoolVar(&c.root, "root", false, "write the module's root certificate (PEM), for serve --attestation-root, instead of a document")
	fs.StringVar(&c.publicKey, "public-key", "", "`file` of the enclave's RSA public key (PEM PUBLIC KEY or DER SubjectPublicKeyInfo) that KMS seals responses to")
	at := fs.String("at", "", "RFC 3339 `instant` the document claims (default: now); its certificate is valid for three hours from it")
	fs.StringVar(&c.moduleID, "module-id", "", "the document's module_id (default: "+attestation.DefaultModuleID+")")
	fs.Func("pcr", "set PCR `N=HEX` (repeatable; in an enclave's document PCR0 is kms:RecipientAttestation:ImageSha384; PCRs not given are 48 zero bytes, as in a debug-mode enclave)", func(v string) error {
		n, h, ok := strings.Cut(v, "=")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 || i >= attestation.MaxPCRs {
			return fmt.Errorf("want N=HEX with N from 0 to %d", attestation.MaxPCRs-1)
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			return errors.New("the value is not hex")
		}
		c.pcrs[i] = b
		return nil
	})
	fs.BoolVar(&c.nitroTPM, "nitrotpm", false, "make a NitroTPM document (an EC2 instance's: nitrotpm_pcrs, PCR0 to PCR16 and PCR23, kms:RecipientAttestation:NitroTPMPCR<n>) instead of an enclave's")
	fs.Func("user-data", "the document's user_data, `HEX`", hexFlag(&c.userData))
	fs.Func("nonce", "the document's nonce, `HEX`", hexFlag(&c.nonce))
	fs.StringVar(&c.out, "out", "", "write to `file` instead of standard output")
	if code := parseFlags(fs, attestHelp, args, stdout, stderr); code >= 0 {
		return code
	}
	docFlag := false // a flag that shapes a document, which --root does not write
	fs.Visit(func(f *flag.Flag) { docFlag = docFlag || f.Name != "seed" && f.Name != "root" && f.Name != "out" })
	switch {
	case c.seed == 0:
		return usageError(stderr, "attest", "--seed is required (not 0)")
	case c.root && docFlag:
		return usageError(stderr, "attest", "--root writes the root only: give no document flags with it")
	case !c.root && c.publicKey == "":
		return usageError(stderr, "attest", "give --public-key (or --root)")
	}
	c.at = time.Now().UTC()
	if *at != "" {
		t, err := time.Parse(time.RFC3339Nano, *at)
		if err != nil {
			return usageError(stderr, "attest", "--at: want an RFC 3339 instant")
		}
		c.at = t.UTC()
	}
	b, err := c.make()
	if err != nil {
		fmt.Fprintf(stderr, "kmssim attest: %v\n", err)
		return exitError
	}
	if c.out == "" {
		_, err = stdout.Write(b)
	} else {
		err = os.WriteFile(c.out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kmssim attest: %v\n", err)
		return exitError
	}
	return exitOK
}

// make returns the root (PEM) or the document c asks for.
func (c *attestConfig) make() ([]byte, error) {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], c.seed)
	copy(seed[8:], "kmssim attest")
	m, err := attestation.NewModule(rand.NewChaCha8(seed), moduleStart)
	if err != nil {
		return nil, err
	}
	if c.root {
		return m.RootPEM(), nil
	}
	pub, err := readPublicKey(c.publicKey)
	if err != nil {
		return nil, err
	}
	return m.Attest(attestation.Claims{ModuleID: c.moduleID, Timestamp: c.at, PCRs: c.pcrs,
		PublicKey: pub, UserData: c.userData, Nonce: c.nonce, NitroTPM: c.nitroTPM})
}

// readPublicKey reads an RSA public key file, PEM or DER, as DER
// SubjectPublicKeyInfo.
func readPublicKey(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("--public-key: a PEM block of type %s, not PUBLIC KEY", blk.Type)
		}
		b = blk.Bytes
	}
	pub, err := x509.ParsePKIXPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("--public-key: not a SubjectPublicKeyInfo: %w", err)
	}
	if _, ok := pub.(*rsa.PublicKey); !ok {
		return nil, errors.New("--public-key: not an RSA key (KMS seals to RSA keys only)")
	}
	return b, nil
}

// hexFlag parses a hex flag value into *dst.
func hexFlag(dst *[]byte) func(string) error {
	return func(v string) error {
		b, err := hex.DecodeString(v)
		if err != nil {
			return errors.New("not hex")
		}
		*dst = b
		return nil
	}
}
