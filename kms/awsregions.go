package kms

import (
	"slices"
	"strings"
)

// awsRegions are the AWS Regions a Service serves without being told
// (KnownRegion), sorted: those of the partitions aws, aws-cn, aws-us-gov,
// aws-iso, aws-iso-b, aws-iso-e, aws-iso-f and aws-eusc as the AWS SDK for
// Go v2 v1.48.0 lists them (internal/endpoints/awsrulesfn/partitions.json,
// without its "-global" pseudo-Regions; the endpoint table of the KMS
// client v1.62.6 has the same names except me-west-1 and sa-west-1), taken
// on 2026-12-06. It is never changed at run time. A Region AWS opens
// later is served when named with WithRegions until this table is brought
// up to date.
var awsRegions = []string{
	"af-south-1",      // aws
	"ap-east-1",       // aws
	"ap-east-2",       // aws
	"ap-northeast-1",  // aws
	"ap-northeast-2",  // aws
	"ap-northeast-3",  // aws
	"ap-south-1",      // aws
	"ap-south-2",      // aws
	"ap-southeast-1",  // aws
	"ap-southeast-2",  // aws
	"ap-southeast-3",  // aws
	"ap-southeast-4",  // aws
	"ap-southeast-5",  // aws
	"ap-southeast-6",  // aws
	"ap-southeast-7",  // aws
	"ca-central-1",    // aws
	"ca-west-1",       // aws
	"cn-north-1",      // aws-cn
	"cn-northwest-1",  // aws-cn
	"eu-central-1",    // aws
	"eu-central-2",    // aws
	"eu-isoe-west-1",  // aws-iso-e
	"eu-north-1",      // aws
	"eu-south-1",      // aws
	"eu-south-2",      // aws
	"eu-west-1",       // aws
	"eu-west-2",       // aws
	"eu-west-3",       // aws
	"eusc-de-east-1",  // aws-eusc
	"il-central-1",    // aws
	"me-central-1",    // aws
	"me-south-1",      // aws
	"me-west-1",       // aws
	"mx-central-1",    // aws
	"sa-east-1",       // aws
	"sa-west-1",       // aws
	"us-east-1",       // aws
	"us-east-2",       // aws
	"us-gov-east-1",   // aws-us-gov
	"us-gov-west-1",   // aws-us-gov
	"us-iso-east-1",   // aws-iso
	"us-iso-west-1",   // aws-iso
	"us-isob-east-1",  // aws-iso-b
	"us-isob-west-1",  // aws-iso-b
	"us-isof-east-1",  // aws-iso-f
	"us-isof-south-1", // aws-iso-f
	"us-west-1",       // aws
	"us-west-2",       // aws
}

// PartitionOf is the AWS partition of the Region called name, which the
// ARNs of the Region's keys, aliases and account principals name (D70):
// aws-cn for cn-*, aws-us-gov for us-gov-*, aws-iso for us-iso-*,
// aws-iso-b for us-isob-*, aws-iso-e for eu-isoe-*, aws-iso-f for
// us-isof-*, aws-eusc for eusc-* (the prefixes of the partitions'
// Regions in KnownRegion's table), and aws for the rest, a Region named
// with WithRegions included.
func PartitionOf(name string) string {
	for _, p := range partitionPrefixes {
		if strings.HasPrefix(name, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

var partitionPrefixes = []struct{ prefix, partition string }{
	{"cn-", "aws-cn"}, {"us-gov-", "aws-us-gov"}, {"us-iso-", "aws-iso"}, {"us-isob-", "aws-iso-b"},
	{"eu-isoe-", "aws-iso-e"}, {"us-isof-", "aws-iso-f"}, {"eusc-", "aws-eusc"},
}

// KnownRegion reports whether name is an AWS Region of the table above:
// one of the partitions aws, aws-cn, aws-us-gov, aws-iso* and aws-eusc as
// the AWS SDK for Go v2 (v1.48.0) lists them. A Service serves these, its
// default Region (WithRegion) and the Regions named with WithRegions.
func KnownRegion(name string) bool {
	_, ok := slices.BinarySearch(awsRegions, name)
	return ok
}
