package kms

import (
	"context"
	"maps"
	"slices"
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
	ctx = withConditionEntries(ctx, policy.Single(viaServiceKey, service), policy.Single("aws:ViaAWSService", "true"))
	if name, _, ok := strings.Cut(service, "."); ok && calledViaServices[name] && !hasCondition(ctx, calledViaKey) {
		ctx = withCalledVia(ctx, name+".amazonaws.com")
	}
	return ctx
}

const (
	viaServiceKey = "kms:ViaService"
	calledViaKey  = "aws:CalledVia"
)

// WithPrincipalTags returns a context whose caller carries the principal
// tags tags (D65): the IAM tags of its user or role and the session tags
// of its session, as AWS resolves them. The calls' condition keys include
// aws:PrincipalTag/<key> for each, which policies compare directly or
// through the policy variable ${aws:PrincipalTag/<key>} (attribute-based
// access control). Tags given again replace those given before.
func WithPrincipalTags(ctx context.Context, tags map[string]string) context.Context {
	entries := make([]policy.ContextEntry, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		entries = append(entries, policy.Single(principalTagPrefix+k, tags[k]))
	}
	return replaceConditions(ctx, func(key string) bool { return strings.HasPrefix(key, principalTagPrefix) }, entries...)
}

const principalTagPrefix = "aws:PrincipalTag/"

// calledViaServices are the services that name themselves in aws:CalledVia
// when they call another with their caller's credentials (IAM User Guide,
// aws:CalledVia).
var calledViaServices = map[string]bool{"athena": true, "cloudformation": true, "dynamodb": true, "kms": true}

// WithCalledVia returns a context whose calls reach AWS KMS through a chain
// of AWS services, each calling the next with the principal's credentials
// (D64): services are their service principals in order, such as
// "athena.amazonaws.com" (Athena, which called S3, which calls KMS). The
// calls' condition keys include aws:CalledVia (the chain),
// aws:CalledViaFirst, aws:CalledViaLast and aws:ViaAWSService "true".
// WithViaService names the service that calls KMS (kms:ViaService), and,
// when that service is Athena, CloudFormation, DynamoDB or KMS (the
// services AWS lists for aws:CalledVia) and no chain was given, makes it
// the chain. A chain given here replaces one given before. A name that is
// not <service>.amazonaws.com makes the call fail with
// ValidationException.
func WithCalledVia(ctx context.Context, services ...string) context.Context {
	return withCalledVia(ctx, services...)
}

func withCalledVia(ctx context.Context, services ...string) context.Context {
	if len(services) == 0 {
		return ctx
	}
	return replaceConditions(ctx, func(key string) bool {
		return key == calledViaKey || key == "aws:CalledViaFirst" || key == "aws:CalledViaLast" || key == "aws:ViaAWSService"
	}, policy.Multi(calledViaKey, slices.Clone(services)...), policy.Single("aws:CalledViaFirst", services[0]),
		policy.Single("aws:CalledViaLast", services[len(services)-1]), policy.Single("aws:ViaAWSService", "true"))
}

// hasCondition reports whether ctx's condition entries hold key.
func hasCondition(ctx context.Context, key string) bool {
	prev, _ := ctx.Value(conditionsKey{}).([]policy.ContextEntry)
	return slices.ContainsFunc(prev, func(e policy.ContextEntry) bool { return e.Key == key })
}

// checkViaService refuses a call whose context names a service that is
// not <service>.<region>.amazonaws.com (or .amazonaws.com.cn in the China
// Regions): the form kms:ViaService takes (spec §5.1).
func checkViaService(op keystate.Operation, entries []policy.ContextEntry) error {
	for _, e := range entries {
		switch {
		case e.Key == viaServiceKey && !validViaService(e.Value):
			// kmsmodel's wording (D60).
			return kmsError(keystate.ErrValidation, op, "", keystate.None,
				"'"+e.Value+"' is not the name of an AWS service endpoint in a Region, such as s3.us-east-1.amazonaws.com.")
		case e.Key == calledViaKey:
			for _, v := range e.Values {
				if base, ok := serviceHost(v); !ok || strings.Contains(base, ".") {
					// kmsmodel's wording (D64).
					return kmsError(keystate.ErrValidation, op, "", keystate.None,
						"'"+v+"' is not the service principal of an AWS service, such as athena.amazonaws.com.")
				}
			}
		}
	}
	return nil
}

// validViaService reports whether s is <service>.<region>.amazonaws.com
// or <service>.<region>.amazonaws.com.cn: a service principal's form
// (serviceHost) whose last label before the suffix is a Region of the AWS
// form.
func validViaService(s string) bool {
	base, ok := serviceHost(s)
	i := strings.LastIndexByte(base, '.')
	return ok && i > 0 && ValidRegion(base[i+1:])
}

// serviceCall is what WithServicePrincipal puts in a context.
type serviceCall struct{ service, sourceArn, sourceAccount string }

// WithServicePrincipal returns a context whose calls are made by the AWS
// service principal service (such as "logs.us-east-1.amazonaws.com" or
// "cloudtrail.amazonaws.com") on behalf of the AWS resource sourceArn (a
// log group, a trail, a bucket) of the account sourceAccount, as such
// services call AWS KMS for their customers' resources (decision D61).
//
// Key policy statements whose Principal names the service match the call;
// no account principal does, and identity-based policies do not apply
// (service principals have none), so the default key policy refuses it,
// and so are the operations on no key (CreateKey, ListKeys, …) and on
// aliases.
// The call's condition keys include aws:SourceArn, aws:SourceAccount,
// aws:PrincipalServiceName and aws:PrincipalIsAWSService ("true"); and a
// grant to the service principal (GranteeServicePrincipal) with a
// SourceArn constraint allows it when sourceArn is that ARN. A key ID or
// alias name is looked up in sourceAccount. A service principal that is
// not <name>.amazonaws.com (or .amazonaws.com.cn), a sourceArn that is
// not an ARN, or a sourceAccount that is not twelve digits makes the call
// fail with ValidationException. Like WithPrincipal, it takes precedence
// over a principal given before it (WithPrincipal, WithCaller), and one
// given after it takes precedence over it.
func WithServicePrincipal(ctx context.Context, service, sourceArn, sourceAccount string) context.Context {
	return context.WithValue(ctx, principalKey{}, &serviceCall{service, sourceArn, sourceAccount})
}

// serviceCaller is callerPrincipal for a call WithServicePrincipal made.
// The caller holds s.mu.
func (s *Service) serviceCaller(op keystate.Operation, sc *serviceCall) (policy.Principal, string, error) {
	p, err := servicePrincipal(op, sc.service, "servicePrincipal")
	if err == nil {
		err = validateSourceArn(op, sc.sourceArn, "sourceArn")
	}
	if err == nil && !ValidAccountID(sc.sourceAccount) {
		err = kmsError(keystate.ErrValidation, op, "", keystate.None, "'"+sc.sourceAccount+"' at 'sourceAccount' is not a 12-digit account ID.")
	}
	if err != nil {
		return policy.Principal{}, "", err
	}
	s.call.sourceArn = sc.sourceArn
	s.call.extra = append(s.call.extra,
		policy.Single("aws:SourceArn", sc.sourceArn), policy.Single("aws:SourceAccount", sc.sourceAccount),
		policy.Single("aws:PrincipalServiceName", sc.service), policy.Single("aws:PrincipalIsAWSService", "true"))
	return p, sc.sourceAccount, nil
}
