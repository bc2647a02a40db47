package kms

import (
	"slices"
	"testing"
)

// The table of known Regions is sorted without repeats (KnownRegion
// searches it), and every name has the AWS form.
func TestAWSRegionsTable(t *testing.T) {
	if !slices.IsSorted(awsRegions) || len(slices.Compact(slices.Clone(awsRegions))) != len(awsRegions) {
		t.Fatal("awsRegions is not sorted, or repeats a name")
	}
	for _, name := range awsRegions {
		if !ValidRegion(name) {
			t.Errorf("%q is not of the AWS form", name)
		}
	}
	if len(awsRegions) >= maxRegions {
		t.Errorf("%d known Regions, at least the %d a service can serve", len(awsRegions), maxRegions)
	}
}
