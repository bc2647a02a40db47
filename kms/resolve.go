package kms

import (
	"context"
	"strings"

	"github.com/kmsmodel/kmsmodel/keystate"
)

// lookup says which identifier forms an operation accepts
// (aws-kms-behaviour.md e.3).
type lookup uint8

const (
	idOnly       lookup = 0
	allowAlias   lookup = 1 << iota // alias names and alias ARNs
	crossAccount                    // another account's key ARN (or alias ARN)
	// lookupOnly finds the key without authorizing the call: the caller
	// decides (RetireGrant, which its grant authorizes, spec §4.7).
	lookupOnly
)

// resolve finds the key an identifier names, in the order of decision D3:
// input validation, identifier syntax (D4), lookup (D5, D6, D19), then
// authorization. It returns the key and its ARN.
func (s *Service) resolve(ctx context.Context, op keystate.Operation, caller, id, field string, how lookup) (*key, string, error) {
	k, err := s.resolveKey(ctx, op, caller, id, field, how)
	if err != nil {
		return nil, "", err
	}
	return k, s.arnOf(k), nil
}

// resolveKey is resolve without the key's ARN, for a call that may not
// need it: building it is an allocation, the only one EnableKey and
// DisableKey would make.
func (s *Service) resolveKey(ctx context.Context, op keystate.Operation, caller, id, field string, how lookup) (*key, error) {
	if err := checkLength(op, id, field, 1, 2048); err != nil {
		return nil, err
	}
	var (
		k  *key
		al *alias
	)
	switch {
	case strings.HasPrefix(id, "arn:"):
		a, ok := parseARN(id)
		if !ok {
			return nil, kmsError(keystate.ErrInvalidArn, op, id, keystate.None, "ARN "+id+" is not a valid KMS key or alias ARN")
		}
		if a.alias != "" && how&allowAlias == 0 {
			// D5: an alias where only a key ID or key ARN is accepted.
			return nil, s.notFoundAlias(op, id)
		}
		if a.region != s.rg.name || a.partition != s.rg.partition {
			// D19, recorded: the region named is the ARN's.
			return nil, kmsError(keystate.ErrNotFound, op, id, keystate.None, "Invalid arn "+a.region)
		}
		if a.account != caller && how&crossAccount == 0 {
			// D6: not visible to a call that cannot cross accounts.
			return nil, s.notFoundKey(op, id)
		}
		if a.alias != "" {
			s.call.alias = a.alias
			al = s.rg.aliases[aliasID{account: a.account, name: a.alias}]
			if al == nil && a.account == caller {
				var err error
				if al, err = s.awsManagedAlias(op, caller, a.alias); err != nil {
					return nil, err
				}
			}
			if al == nil {
				return nil, s.notFoundAlias(op, id)
			}
			k = al.target
		} else {
			k = s.rg.keys.get(a.keyID)
			if k == nil || k.account != a.account {
				return nil, s.notFoundKey(op, s.keyARN(a.account, a.keyID))
			}
		}
	case strings.HasPrefix(id, "alias/"):
		if how&allowAlias == 0 {
			return nil, s.notFoundAlias(op, s.aliasARN(caller, id)) // D5
		}
		s.call.alias = id
		al = s.rg.aliases[aliasID{account: caller, name: id}]
		if al == nil {
			// The first use of an AWS service's alias creates its AWS
			// managed key, as AWS does.
			var err error
			if al, err = s.awsManagedAlias(op, caller, id); err != nil {
				return nil, err
			}
		}
		if al == nil {
			return nil, s.notFoundAlias(op, s.aliasARN(caller, id))
		}
		k = al.target
	default:
		if !isKeyID(id) {
			// D4, D19: recorded wording.
			return nil, kmsError(keystate.ErrNotFound, op, id, keystate.None, "Invalid keyId '"+id+"'")
		}
		k = s.rg.keys.get(id)
		if k == nil || k.account != caller {
			return nil, s.notFoundKey(op, s.keyARN(caller, id))
		}
	}
	if s.ec != nil {
		// Eventual consistency (D41): the alias's target and the key's
		// existence as the caller's reader sees them.
		var err error
		if k, err = s.ecResolve(op, k, al); err != nil {
			return nil, err
		}
	}
	if how&lookupOnly == 0 {
		if err := s.authorize(ctx, op, caller, k, ""); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (s *Service) notFoundKey(op keystate.Operation, arn string) error {
	// D19, recorded: "Key '<key ARN>' does not exist".
	return kmsError(keystate.ErrNotFound, op, arn, keystate.None, "Key '"+arn+"' does not exist")
}

func (s *Service) notFoundAlias(op keystate.Operation, aliasARN string) error {
	// No recording; the wording real KMS uses for an unknown alias.
	return kmsError(keystate.ErrNotFound, op, aliasARN, keystate.None, "Alias "+aliasARN+" is not found.")
}

// authorize asks the Authorizer (D3 step 5), within the policy of the VPC
// endpoint the call came through (D64), or else the key policy. arn is
// k's ARN, or "" to have it made only if the decision needs it.
func (s *Service) authorize(ctx context.Context, op keystate.Operation, caller string, k *key, arn string) error {
	if s.cfg.authorizer == nil {
		return s.evaluatePolicy(op, k, arn)
	}
	if arn == "" {
		arn = s.arnOf(k)
	}
	action := actionNames[op]
	if s.call.vpce != nil {
		// D64: the VPC endpoint's policy bounds the call whoever decides it.
		req := s.request(action, arn, k.account, s.withKeyAliases(s.keyConditions(k), k))
		req.EncryptionContext = s.call.ec
		if d, denied := s.endpointDenies(&req); denied {
			return s.deniedBy(op, d, action, arn, k)
		}
	}
	err := s.cfg.authorizer.Authorize(ctx, AuthRequest{Caller: caller, Action: action, KeyARN: arn, KeyAccount: k.account})
	if err == nil {
		return nil
	}
	return &keystate.Error{Code: keystate.ErrAccessDenied, Op: op, KeyID: arn, State: k.state, Err: err,
		Message: "User: arn:" + s.rg.partition + ":iam::" + caller + ":root is not authorized to perform: " + action +
			" on resource: " + arn + " because no resource-based policy allows the " + action + " action"}
}

// actionNames holds "kms:<Operation>" for every operation, so that
// authorization builds no string.
var actionNames = func() (t [256]string) {
	for i := range t {
		if name := keystate.Operation(i).String(); !strings.HasPrefix(name, "Operation(") {
			t[i] = "kms:" + name
		}
	}
	return t
}()
