package attestation

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"testing"
	"time"
)

// The embedded root is AWS's published AWS Nitro Enclaves Root-G1: its
// DER's SHA-256 is the fingerprint AWS publishes, and it is valid
// 2019-10-28 to 2049-10-28.
func TestAWSNitroRootG1IsAWSPublishedRoot(t *testing.T) {
	block, rest := pem.Decode([]byte(awsNitroRootG1))
	if block == nil || len(rest) != 0 {
		t.Fatal("the embedded root is not one PEM block")
	}
	sum := sha256.Sum256(block.Bytes)
	const want = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("SHA-256 of the root = %s, want AWS's %s", got, want)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if y, m, d := c.NotBefore.Date(); y != 2019 || m != time.October || d != 28 {
		t.Errorf("NotBefore = %v, want 2019-10-28", c.NotBefore)
	}
	if y, m, d := c.NotAfter.Date(); y != 2049 || m != time.October || d != 28 {
		t.Errorf("NotAfter = %v, want 2049-10-28", c.NotAfter)
	}
	if !c.IsCA || c.Subject.CommonName != "aws.nitro-enclaves" {
		t.Errorf("the root is not the aws.nitro-enclaves CA: %v", c.Subject)
	}
}
