package consistency_test

import (
	"fmt"
	"time"

	"github.com/kmsmodel/kmsmodel/kms/consistency"
)

// A change made at instant 0 with a fixed 2-second propagation delay: no
// reader sees it at once, some do a second later, every reader does from 2
// seconds on.
func Example() {
	m := consistency.Model{Seed: 1, Delay: consistency.Fixed(2 * time.Second)}
	const change = 17
	alice, carol := consistency.Reader("arn:aws:iam::111122223333:user/alice"), consistency.Reader("arn:aws:iam::111122223333:user/carol")
	for _, at := range []time.Duration{0, time.Second, 2 * time.Second} {
		now := at.Microseconds()
		fmt.Println(at, m.Visible(change, 0, now, alice), m.Visible(change, 0, now, carol))
	}
	fmt.Println(time.Duration(m.FullAt(change, 0)) * time.Microsecond)
	// Output:
	// 0s false false
	// 1s true false
	// 2s true true
	// 2s
}
