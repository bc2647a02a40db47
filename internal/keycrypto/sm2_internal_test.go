package keycrypto

import (
	"bytes"
	"crypto/rand"
	"encoding/asn1"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// TestSM2DecryptsAZeroC2: a valid ciphertext whose C2 is all zero
// decrypts (GB/T 32918.4 rejects an all-zero t, not an all-zero C2; gmsm
// v0.30.0 rejected the C2, so one ciphertext of a one-byte plaintext in 256
// made by any other SM2 implementation failed to decrypt). The ciphertext
// is built from one the key made: the plaintext t (the KDF output for its
// C1) encrypts to a C2 of zeros under the same C1.
func TestSM2DecryptsAZeroC2(t *testing.T) {
	impl, err := generateSM2(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := impl.(*sm2Key)
	m := []byte{0x5a}
	ct, err := k.encrypt(SM2PKE, m)
	if err != nil {
		t.Fatal(err)
	}
	var c sm2Ciphertext
	if rest, err := asn1.Unmarshal(ct, &c); err != nil || len(rest) > 0 {
		t.Fatalf("the ciphertext is not ASN.1 C1C3C2: %v", err)
	}
	//lint:ignore SA1019 the test needs the shared point's y too, which no non-deprecated gmsm API returns
	x2, y2 := sm2.P256().ScalarMult(c.X, c.Y, k.d)
	xy := make([]byte, 64)
	x2.FillBytes(xy[:32])
	y2.FillBytes(xy[32:])
	tt := []byte{c.C2[0] ^ m[0]} // t, the KDF output for this C1
	h := sm3.New()
	h.Write(xy[:32])
	h.Write(tt)
	h.Write(xy[32:])
	zero, err := asn1.Marshal(sm2Ciphertext{X: c.X, Y: c.Y, C3: h.Sum(nil), C2: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.decrypt(SM2PKE, zero)
	if err != nil || !bytes.Equal(got, tt) {
		t.Fatalf("Decrypt of a ciphertext with C2 = 00 = %x, %v; want %x", got, err, tt)
	}
}
