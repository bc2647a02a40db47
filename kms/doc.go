// Package kms is kmsmodel's model of the AWS KMS service: keys and their
// lifecycle, automatic and on-demand rotation, aliases and tags, driven by an
// injected clock so that rotations and deletions happen on schedule in
// simulated time.
//
// # The service
//
// New builds a Service from options: account and Region, the Clock, the
// randomness source for key IDs, the on-demand rotation quota (decision D1,
// default 10) and duration (D10, default 0), an Authorizer and an Observer.
// Each AWS operation is a method of the same name taking a context and an
// input struct with the AWS field names, and returning an output struct
// with the AWS field names. A Service is safe for concurrent use.
//
// # Time
//
// The service never reads the wall clock unless given WallClock (the
// default), never sleeps and starts no goroutine or timer. A ManualClock
// starts at the instant the caller gives and moves only by Set and Advance.
// Scheduled events (automatic rotations at their exact instants, D13;
// completions of on-demand rotations, D10; deletions at DeletionDate, D7)
// sit in a priority queue. Every call first applies, in time order, every
// event due by the clock's current instant, and Sweep does the same on its
// own, so a simulator that advances the clock a year sees each rotation of
// that year with its own date.
//
// # Errors
//
// Every refusal is a *keystate.Error: errors.Is matches it against the
// keystate sentinel of its AWS exception (keystate.ErrDisabled, …) and
// errors.As extracts the operation, key ARN, key state and message. Checks
// run in the order of decision D3: input validation, identifier syntax, key
// lookup, cross-account rule, authorization, the key-state table, key-kind
// support, then quota and conflicts. A refused call changes nothing.
//
// # Events
//
// With WithObserver, every call (accepted or refused) and every scheduled
// event produces an Event record, delivered in order: the CloudTrail-like
// trail of what happened to each key. Records never carry key material.
//
// # Imported key material
//
// An EXTERNAL key is born PendingImport. GetParametersForImport hands out
// an RSA wrapping public key and an import token valid 24 hours of
// simulated time; ImportKeyMaterial unwraps the 256-bit material (real
// RSA-OAEP, or RSA-OAEP plus AES key wrap with padding) and makes the key
// usable. Material imported with KEY_MATERIAL_EXPIRES expires at exactly
// ValidTo, a scheduled event like a rotation: the key goes back to
// PendingImport (a key pending deletion stays so). Re-importing must bring
// the same material, and then earlier ciphertexts decrypt again. The
// material is kept and stored only sealed under a key derived from the
// root secret; import tokens and wrapping private keys live in memory
// only, so a restarted service refuses earlier tokens with
// InvalidImportTokenException. Only SYMMETRIC_DEFAULT keys take imported
// material in this version: the import calls refuse other key specs with
// UnsupportedOperationException. Under the 2024 rules (decision D2)
// RotateKeyOnDemand of an EXTERNAL key is refused.
//
// # AWS managed keys
//
// The first use of alias/aws/<service> (for the services that create such
// keys: s3, ebs, lambda, …) by alias name or alias ARN creates that
// service's AWS managed key in the caller's account: KeyManager AWS,
// rotating every 365 days from its creation, its rotation, state and
// deletion not changeable (decision D15). The alias/aws/ namespace is
// reserved: CreateAlias, UpdateAlias and DeleteAlias refuse it.
//
// # Not modelled yet
//
// Multi-Region replicas, custom key stores, imported
// material for asymmetric and HMAC keys, and the 2025 multi-material
// import rules are not part of this version; CreateKey with a custom key
// store origin is refused with UnsupportedOperationException.
package kms
