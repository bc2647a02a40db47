package kms

import (
	"context"
	"strings"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// WithViaService returns a context whose calls are made by an AWS service
// on behalf of the context's principal, as an integrated service (S3,
// Secrets Manager, EBS, …) calls AWS KMS with its caller's credentials
// (decision D60): service is the service's endpoint name in a Region, such
// as "secretsmanager.us-east-1.amazonaws.com". Such a call's condition
// keys include kms:ViaService, with that name, and aws:ViaAWSService,
// "true" (spec §5.1, §5.2), so that key policies and identity-based
// policies that allow or deny "via" a service decide it as AWS does.
// Nothing else changes: the caller is still the principal (WithPrincipal),
// whom AccessDeniedException names. A name that is not of that form makes
// the call fail with ValidationException.
func WithViaService(ctx context.Context, service string) context.Context {
	return withConditionEntries(ctx, policy.Single(viaServiceKey, service), policy.Single("aws:ViaAWSService", "true"))
}

const viaServiceKey = "kms:ViaService"

// checkViaService refuses a call whose context names a service that is
// not <service>.<region>.amazonaws.com (or .amazonaws.com.cn in the China
// Regions): the form kms:ViaService takes (spec §5.1).
func checkViaService(op keystate.Operation, entries []policy.ContextEntry) error {
	for _, e := range entries {
		if e.Key != viaServiceKey || validViaService(e.Value) {
			continue
		}
		// kmsmodel's wording (D60).
		return kmsError(keystate.ErrValidation, op, "", keystate.None,
			"'"+e.Value+"' is not the name of an AWS service endpoint in a Region, such as s3.us-east-1.amazonaws.com.")
	}
	return nil
}

// validViaService reports whether s is <service>.<region>.amazonaws.com
// or <service>.<region>.amazonaws.com.cn with a lowercase service name
// and a Region of the AWS form.
func validViaService(s string) bool {
	rest, ok := strings.CutSuffix(s, ".amazonaws.com")
	if !ok {
		if rest, ok = strings.CutSuffix(s, ".amazonaws.com.cn"); !ok {
			return false
		}
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 || !ValidRegion(rest[i+1:]) {
		return false
	}
	for _, c := range rest[:i] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
