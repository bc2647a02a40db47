package keycrypto_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/kmsmodel/kmsmodel/internal/keycrypto"
	"github.com/kmsmodel/kmsmodel/keystate"
)

// seeded returns a deterministic random reader.
func seeded(seed uint64) io.Reader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

// keySpecs are the specs keycrypto implements.
var keySpecs = []keystate.KeySpec{
	keystate.HMAC224, keystate.HMAC256, keystate.HMAC384, keystate.HMAC512,
	keystate.RSA2048, keystate.RSA3072, keystate.RSA4096,
	keystate.ECCNISTP256, keystate.ECCNISTP384, keystate.ECCNISTP521,
	keystate.ECCNISTEdwards25519, keystate.ECCSECGP256K1,
	keystate.MLDSA44, keystate.MLDSA65, keystate.MLDSA87, keystate.SM2,
	keystate.MLKEM512, keystate.MLKEM768, keystate.MLKEM1024,
}

var (
	keyCacheMu sync.Mutex
	keyCache   = map[keystate.KeySpec]*keycrypto.Key{}
)

// testKey returns one generated key per spec, shared by the tests (RSA
// generation is slow).
func testKey(t testing.TB, spec keystate.KeySpec) *keycrypto.Key {
	t.Helper()
	keyCacheMu.Lock()
	defer keyCacheMu.Unlock()
	if k, ok := keyCache[spec]; ok {
		return k
	}
	k, err := keycrypto.Generate(spec, seeded(uint64(spec)+1000))
	if err != nil {
		t.Fatalf("Generate(%s): %v", spec, err)
	}
	keyCache[spec] = k
	return k
}

// digestOf computes what a caller would send as DIGEST for message.
func digestOf(t testing.TB, k *keycrypto.Key, alg string, message []byte) []byte {
	t.Helper()
	switch alg {
	case keycrypto.RSASSAPSSSHA256, keycrypto.RSASSAPKCS1V15SHA256, keycrypto.ECDSASHA256:
		d := sha256.Sum256(message)
		return d[:]
	case keycrypto.RSASSAPSSSHA384, keycrypto.RSASSAPKCS1V15SHA384, keycrypto.ECDSASHA384:
		d := sha512.Sum384(message)
		return d[:]
	case keycrypto.RSASSAPSSSHA512, keycrypto.RSASSAPKCS1V15SHA512, keycrypto.ECDSASHA512:
		d := sha512.Sum512(message)
		return d[:]
	case keycrypto.SM2DSA:
		priv := k.Signer().(*sm2.PrivateKey)
		d, err := sm2.CalculateSM2Hash(&priv.PublicKey, message, []byte("1234567812345678"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Fatalf("no digest for %s", alg)
	return nil
}
