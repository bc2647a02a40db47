package kms

import (
	"maps"
	"slices"
	"strings"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/store"
)

// AWS managed keys.
//
// AWS services create a key of their own in a customer's account the first
// time it is used: DescribeKey (or Encrypt, GenerateDataKey, …) of the alias
// alias/aws/<service> creates it (aws-kms-behaviour.md d.1, KeyManager). Such
// a key is a symmetric encryption key with KeyManager AWS; it rotates every
// 365 days from its creation and its rotation, state and deletion cannot be
// changed (decision D15, applied by keystate.Check).

// awsServiceAliases are the alias/aws/ names whose first use creates an
// AWS managed key: the services that create one in a customer's account.
var awsServiceAliases = map[string]string{
	"alias/aws/acm":               "ACM",
	"alias/aws/backup":            "Backup",
	"alias/aws/codeartifact":      "CodeArtifact",
	"alias/aws/codecommit":        "CodeCommit",
	"alias/aws/connect":           "Connect",
	"alias/aws/dms":               "DMS",
	"alias/aws/dynamodb":          "DynamoDB",
	"alias/aws/ebs":               "EBS",
	"alias/aws/elasticfilesystem": "EFS",
	"alias/aws/es":                "OpenSearch",
	"alias/aws/fsx":               "FSx",
	"alias/aws/glue":              "Glue",
	"alias/aws/kinesis":           "Kinesis",
	"alias/aws/kinesisvideo":      "Kinesis Video Streams",
	"alias/aws/lambda":            "Lambda",
	"alias/aws/lightsail":         "Lightsail",
	"alias/aws/rds":               "RDS",
	"alias/aws/redshift":          "Redshift",
	"alias/aws/s3":                "S3",
	"alias/aws/secretsmanager":    "Secrets Manager",
	"alias/aws/sns":               "SNS",
	"alias/aws/sqs":               "SQS",
	"alias/aws/ssm":               "Systems Manager",
	"alias/aws/timestream":        "Timestream",
	"alias/aws/xray":              "X-Ray",
}

// predefinedAliases are the names of awsServiceAliases in order: the
// predefined aliases ListAliases lists without a target until their AWS
// managed key exists (D72).
var predefinedAliases = slices.Sorted(maps.Keys(awsServiceAliases))

// awsManagedPeriod is the rotation period of AWS managed keys (D15).
const awsManagedPeriod = 365

// awsManagedAlias returns the alias name of account, creating its AWS
// managed key and alias if name is one of awsServiceAliases used for the
// first time. It returns nil (and no error) for any other missing alias.
// The caller holds s.mu.
func (s *Service) awsManagedAlias(op keystate.Operation, account, name string) (*alias, error) {
	service, ok := awsServiceAliases[name]
	if !ok || !strings.HasPrefix(name, "alias/aws/") {
		return nil, nil
	}
	if err := s.serveRegion(op); err != nil {
		return nil, err
	}
	now := s.last
	id, err := newKeyID(s.cfg.random, false, &s.ids)
	if err != nil {
		return nil, &keystate.Error{Code: keystate.ErrKMSInternal, Op: op, Err: err, Message: "The randomness source failed."}
	}
	st, err := keystate.Transition(keystate.None, keystate.Create)
	if err != nil {
		return nil, err
	}
	k := key{
		id: id, account: s.internAccount(account), seq: s.seq + 1, version: 1, created: now, state: st, region: s.rg.index,
		// The wording is kmsmodel's, in the style of AWS's descriptions.
		text:        newKeyText("Default key that protects my "+service+" data when no other key is defined", nil),
		kind:        keystate.Kind{Manager: keystate.AWSManaged},
		autoEnabled: true, period: awsManagedPeriod, anchor: now, nextRotation: now + days(awsManagedPeriod),
	}
	a := &alias{name: name, account: account, created: now, updated: now, region: s.recordRegion(s.rg.index)}
	if s.st != nil {
		rec := s.toRecord(&k)
		b := store.Batch{PutKeys: []store.Key{rec},
			PutAliases: []store.Alias{{AliasID: a.storeID(), KeyID: id,
				Created: fromMicros(now), Updated: fromMicros(now)}}}
		if err := s.persist(&b); err != nil {
			return nil, internalError(op, s.keyARN(account, id), keystate.None, err)
		}
	}
	s.seq++
	p := s.addKey(k)
	s.schedule(p.nextRotation, p, evAutoRotation)
	a.target = p
	s.rg.putAlias(aliasID{account: account, name: name}, a)
	return a, nil
}
