package kms_test

import (
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
)

// BenchmarkListRetirableGrants100kKeys is ListRetirableGrants in a
// Region of 100,000 keys, ten of them with a grant to the retiring
// principal.
func BenchmarkListRetirableGrants100kKeys(b *testing.B) {
	e := fxNew(b)
	const retiring = "arn:aws:iam::111122223333:role/retirer"
	for i := range 100000 {
		id, _ := e.symmetric()
		if i%10000 == 0 {
			if _, err := e.s.CreateGrant(e.ctx, &kms.CreateGrantInput{KeyId: id, GranteePrincipal: retiring,
				RetiringPrincipal: retiring, Operations: []string{"Encrypt"}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	in := &kms.ListRetirableGrantsInput{RetiringPrincipal: retiring}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		out, err := e.s.ListRetirableGrants(e.ctx, in)
		if err != nil || len(out.Grants) != 10 {
			b.Fatal(out, err)
		}
	}
}
