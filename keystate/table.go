package keystate

import (
	"fmt"
	"strconv"
	"strings"
)

// stateTable is the operation × state table of the AWS key states page
// (aws-kms-behaviour.md a.2), cell for cell as published, so that a reader
// can hold it next to the page. The columns are, in order: Enabled,
// Disabled, PendingDeletion/PendingReplicaDeletion, PendingImport,
// Unavailable, Creating, Updating. "✓" succeeds, "✗" fails, "?" depends on
// the key's kind, "[n]" names a footnote, "N/A" is a state the key cannot be
// in. How each footnote and each "or" is decided is in footnoteError and
// Check below.
var stateTable = [numTableOperations + 1][7]string{
	CancelKeyDeletion:                   {"✗[4]", "✗[4]", "✓", "✗[4]", "✗[4],[13]", "✗[4]", "✗[4]"},
	CreateAlias:                         {"✓", "✓", "✗[3]", "✓", "✓", "✓", "✓"},
	CreateGrant:                         {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "✓", "✗[14]", "✓"},
	Decrypt:                             {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "✗[11]", "✗[14]", "✓"},
	DeleteAlias:                         {"✓", "✓", "✓", "✓", "✓", "✓", "✓"},
	DeleteImportedKeyMaterial:           {"✓[9]", "✓[9]", "✓[9]", "✓", "N/A", "✗[14]", "✗[15]"},
	DeriveSharedSecret:                  {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "N/A", "✗[14]", "✓"},
	DescribeKey:                         {"✓", "✓", "✓", "✓", "✓", "✓", "✓"},
	DisableKey:                          {"✓", "✓", "✗[3]", "✗[5]", "✓[12]", "✗[14]", "✗[15]"},
	DisableKeyRotation:                  {"?[7]", "✗[1] or [7]", "✗[3] or [7]", "✗[6]", "✗[7]", "✗[14]", "?[7]"},
	EnableKey:                           {"✓", "✓", "✗[3]", "✗[5]", "✓[12]", "✗[14]", "✗[15]"},
	EnableKeyRotation:                   {"?[7]", "✗[1] or [7]", "✗[3] or [7]", "✗[6]", "✗[7]", "✗[14]", "?[7]"},
	Encrypt:                             {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "✗[11]", "✗[14]", "✓"},
	GenerateDataKey:                     {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "✗[11]", "✗[14]", "✓"},
	GenerateDataKeyPair:                 {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "✗[7]", "✗[14]", "✓"},
	GenerateDataKeyPairWithoutPlaintext: {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "✗[7]", "✗[14]", "✓"},
	GenerateDataKeyWithoutPlaintext:     {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "✗[11]", "✗[14]", "✓"},
	GenerateMac:                         {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "N/A", "✗[14]", "✓"},
	GetKeyPolicy:                        {"✓", "✓", "✓", "✓", "✓", "✓", "✓"},
	GetKeyRotationStatus:                {"?[7]", "?[7]", "?[7]", "✗[6]", "✗[7]", "?[7]", "?[7]"},
	GetParametersForImport:              {"?[9]", "?[9]", "✗[8] or [9]", "✓", "✗[9]", "✗[14]", "✗[15]"},
	GetPublicKey:                        {"✓", "✓", "✗[2] or [3]", "✓", "N/A", "✗[14]", "✓"},
	ImportKeyMaterial:                   {"?[9]", "?[9]", "✗[9]", "✓", "✗[9]", "✗[14]", "✓"},
	ListAliases:                         {"✓", "✓", "✓", "✓", "✓", "✓", "✓"},
	ListGrants:                          {"✓", "✓", "✓", "✓", "✓", "✓", "✓"},
	ListKeyPolicies:                     {"✓", "✓", "✓", "✓", "✓", "✓", "✓"},
	ListKeyRotations:                    {"?[7]", "?[7]", "?[7]", "✓", "✗[7]", "?[7]", "?[7]"},
	ListResourceTags:                    {"✓", "✓", "✓", "✓", "✓", "✓", "✓"},
	PutKeyPolicy:                        {"✓", "✓", "✓", "✓", "✓", "✓", "✓"},
	ReEncrypt:                           {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "✗[11]", "✗[14]", "✓"},
	ReplicateKey:                        {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "N/A", "✗[14]", "✗[15]"},
	RetireGrant:                         {"✓", "✓", "✓", "✓", "✓", "✓", "✓"},
	RevokeGrant:                         {"✓", "✓", "✓", "✓", "✓", "✓", "✓"},
	RotateKeyOnDemand:                   {"?[7]", "✗[1] or [7]", "✗[3] or [7]", "✗[5]", "✗[7]", "✗[14]", "?[7]"},
	ScheduleKeyDeletion:                 {"✓", "✓", "✗[3]", "✓", "✓", "✓", "✗[15]"},
	Sign:                                {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "N/A", "✗[14]", "✓"},
	TagResource:                         {"✓", "✓", "✗[3]", "✓", "✓", "✓", "✓"},
	UntagResource:                       {"✓", "✓", "✗[3]", "✓", "✓", "✓", "✓"},
	UpdateAlias:                         {"✓", "✓", "?[10]", "✓", "✓", "✓", "✓"},
	UpdateKeyDescription:                {"✓", "✓", "✗[3]", "✓", "✓", "✓", "✓"},
	UpdatePrimaryRegion:                 {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "N/A", "✗[14]", "✓"},
	Verify:                              {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "N/A", "✗[14]", "✓"},
	VerifyMac:                           {"✓", "✗[1]", "✗[2] or [3]", "✗[5]", "N/A", "✗[14]", "✓"},
}

// column maps a key state to its column of stateTable.
func column(s State) (int, bool) {
	switch s {
	case Enabled:
		return 0, true
	case Disabled:
		return 1, true
	case PendingDeletion, PendingReplicaDeletion:
		return 2, true
	case PendingImport:
		return 3, true
	case Unavailable:
		return 4, true
	case Creating:
		return 5, true
	case Updating:
		return 6, true
	}
	return 0, false
}

// verdict is the first mark of a cell.
type verdict uint8

const (
	allow         verdict = iota // ✓
	conditional                  // ?
	refuse                       // ✗
	notApplicable                // N/A
)

// cell is a compiled table cell: its verdict and its footnotes as a bit set
// (bit n for footnote [n]).
type cell struct {
	v     verdict
	notes uint16
}

func (c cell) has(n int) bool { return c.notes&(1<<n) != 0 }

// compiledTable holds stateTable parsed once, indexed by operation and state.
var compiledTable = compileTable()

func compileTable() (t [numTableOperations + 1][numStates]cell) {
	for op := CancelKeyDeletion; op <= numTableOperations; op++ {
		for s := range numStates {
			col, ok := column(s)
			if !ok {
				t[op][s] = cell{v: notApplicable}
				continue
			}
			c, err := parseCell(stateTable[op][col])
			if err != nil {
				panic(fmt.Sprintf("keystate: table row %s: %v", op, err))
			}
			t[op][s] = c
		}
	}
	return t
}

// parseCell parses one published cell, such as "✗[2] or [3]".
func parseCell(s string) (cell, error) {
	var c cell
	switch {
	case s == "N/A":
		return cell{v: notApplicable}, nil
	case strings.HasPrefix(s, "✓"):
		c.v, s = allow, strings.TrimPrefix(s, "✓")
	case strings.HasPrefix(s, "✗"):
		c.v, s = refuse, strings.TrimPrefix(s, "✗")
	case strings.HasPrefix(s, "?"):
		c.v, s = conditional, strings.TrimPrefix(s, "?")
	default:
		return c, fmt.Errorf("cell %q has no verdict", s)
	}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		if part == "or" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(part, "["), "]"))
		if err != nil || n < 1 || n > 15 {
			return c, fmt.Errorf("cell %q: bad footnote %q", s, part)
		}
		c.notes |= 1 << n
	}
	return c, nil
}

// Check reports whether an operation on a key of kind k in state s is
// allowed. It returns nil, or an *Error with the exact AWS exception and
// message, naming arn. Checks run in the order of decision D3: first the
// key-state table (with its conditional footnotes decided for k), then the
// key-kind rules (decisions D8, D15, key usage). Operations that take no
// existing key (CreateKey, ListKeys, …) are always allowed. Encapsulate
// and Decapsulate, which the published table has no rows for, are decided
// by DeriveSharedSecret's row (D54).
//
// Conditional cells are decided as follows:
//   - "[1] or [7]", "[3] or [7]": the state footnote wins (D3, and the real
//     AWS recording of a Disabled RSA key).
//   - "[2] or [3]": [3], KMSInvalidStateException (D17).
//   - [7]: a key in a custom key store, or with imported key material
//     (D2a), gets UnsupportedOperationException.
//   - [8] or [9]: a key that can have imported material gets [8],
//     KMSInvalidStateException; any other key [9].
//   - ✗[9] on a key that can have imported material: the state's own
//     KMSInvalidStateException (kmsmodel's choice; AWS is silent).
//   - ?[10]: UpdateAlias's destination key pending deletion is refused.
//   - N/A: such a key cannot be in that state; kmsmodel refuses with the
//     state's KMSInvalidStateException.
func Check(op Operation, s State, k Kind, arn string) error {
	return check(op, s, k, arn, false)
}

// CheckToday is Check with footnote [7] as today's key-state table reads
// it: UnsupportedOperationException for a key in a custom key store only,
// not for a key with imported key material (which decision D2a keeps for
// the 2024 rules). Every other cell is decided as Check decides it. kms
// uses it under its current rule profile (kms.RulesCurrent, decision D36).
func CheckToday(op Operation, s State, k Kind, arn string) error {
	return check(op, s, k, arn, true)
}

func check(op Operation, s State, k Kind, arn string, today bool) error {
	if op == NoOperation || op >= numOperations {
		return &Error{Code: ErrValidation, Op: op, KeyID: arn, State: s,
			Message: fmt.Sprintf("unknown operation %d", uint8(op))}
	}
	if row := tableRow(op); row != NoOperation {
		if s == None || s == Deleted {
			// Decision D7: a key that does not exist (yet or any more) is not found.
			return &Error{Code: ErrNotFound, Op: op, KeyID: arn, State: s, Message: "Key '" + arn + "' does not exist"}
		}
		if s >= numStates {
			return stateError(op, s, arn)
		}
		c := compiledTable[row][s]
		if c.v != allow || c.notes&kindNotes != 0 {
			if err := cellError(op, s, k, arn, c, today); err != nil {
				return err
			}
		}
	}
	if kindRules[op] != 0 {
		return kindError(op, s, k, arn)
	}
	return nil
}

// tableRow returns the row of the key-state table that decides op:
// its own, DeriveSharedSecret's for Encapsulate and Decapsulate (D54), or
// NoOperation for an operation that the table leaves out.
func tableRow(op Operation) Operation {
	switch {
	case op <= numTableOperations:
		return op
	case op == Encapsulate || op == Decapsulate:
		return DeriveSharedSecret
	}
	return NoOperation
}

// kindNotes are the footnotes whose outcome depends on the key's kind.
const kindNotes = 1<<7 | 1<<9

// cellError decides a cell that is not a plain ✓.
func cellError(op Operation, s State, k Kind, arn string, c cell, today bool) error {
	switch c.v {
	case notApplicable:
		return stateError(op, s, arn)
	case allow, conditional:
		switch {
		case c.has(7) && rotationUnsupportedOrigin(k, today):
			return originError(op, s, k, arn)
		case c.has(9) && !k.CanHaveImportedMaterial():
			return originError(op, s, k, arn)
		case c.has(10):
			return footnoteError(op, s, arn, 10)
		}
		return nil
	}
	// Refused: the footnotes decide the exception, in D3 order.
	switch {
	case c.has(1):
		return footnoteError(op, s, arn, 1)
	case c.has(2) || c.has(3):
		return footnoteError(op, s, arn, 3) // D17
	case c.has(4):
		return footnoteError(op, s, arn, 4)
	case c.has(5):
		return footnoteError(op, s, arn, 5)
	case c.has(6):
		return originError(op, s, k, arn)
	case c.has(8) && k.CanHaveImportedMaterial():
		return footnoteError(op, s, arn, 8)
	case c.has(9):
		if k.CanHaveImportedMaterial() {
			return stateError(op, s, arn)
		}
		return originError(op, s, k, arn)
	case c.has(7):
		return originError(op, s, k, arn)
	case c.has(11):
		return footnoteError(op, s, arn, 11)
	case c.has(14):
		return footnoteError(op, s, arn, 14)
	case c.has(15):
		return footnoteError(op, s, arn, 15)
	}
	return stateError(op, s, arn)
}

// rotationUnsupportedOrigin is footnote [7]: as the 2024 rules read it
// (decision D2a), custom key store keys and keys with imported material;
// as today's table reads it (today), custom key store keys only.
func rotationUnsupportedOrigin(k Kind, today bool) bool {
	return k.Origin.InCustomKeyStore() || k.Origin == External && !today
}

// footnoteError returns the error of footnote n, worded as D19 records it.
func footnoteError(op Operation, s State, arn string, n int) error {
	switch n {
	case 1:
		return newError(ErrDisabled, op, s, arn, " is disabled.")
	case 3, 8, 10:
		return newError(ErrKMSInvalidState, op, s, arn, " is pending deletion.")
	case 4:
		return newError(ErrKMSInvalidState, op, s, arn, " is not pending deletion.")
	case 5:
		return newError(ErrKMSInvalidState, op, s, arn, " is pending import.")
	case 11:
		return newError(ErrKMSInvalidState, op, s, arn, " is unavailable.")
	case 14:
		return newError(ErrKMSInvalidState, op, s, arn, " is creating.")
	case 15:
		return newError(ErrKMSInvalidState, op, s, arn, " is updating.")
	}
	return stateError(op, s, arn)
}

// stateError is the KMSInvalidStateException that names the key's state.
func stateError(op Operation, s State, arn string) error {
	switch s {
	case Disabled:
		return newError(ErrKMSInvalidState, op, s, arn, " is disabled.")
	case PendingDeletion, PendingReplicaDeletion:
		return footnoteError(op, s, arn, 3)
	case PendingImport:
		return footnoteError(op, s, arn, 5)
	case Unavailable:
		return footnoteError(op, s, arn, 11)
	case Creating:
		return footnoteError(op, s, arn, 14)
	case Updating:
		return footnoteError(op, s, arn, 15)
	}
	return newError(ErrKMSInvalidState, op, s, arn, " is "+s.String()+".")
}

// originError is UnsupportedOperationException for the key's origin,
// worded as footnote [6] is ("<ARN> origin is EXTERNAL which is not valid
// for this operation."); kmsmodel uses the same wording for [7] and [9].
func originError(op Operation, s State, k Kind, arn string) error {
	return newError(ErrUnsupportedOperation, op, s, arn,
		" origin is "+k.Origin.String()+" which is not valid for this operation.")
}

func newError(code Exception, op Operation, s State, arn, suffix string) *Error {
	return &Error{Code: code, Op: op, KeyID: arn, State: s, Message: arn + suffix}
}

// Kind rules: what each operation requires of the key's kind, checked after
// the state table (D3 step 7).
const (
	needSymmetricRotation = 1 << iota // D8: symmetric, customer managed, not a replica
	needCustomerManaged               // D15
	needNotExternal                   // automatic rotation: not imported material
	needEncryptDecrypt                // KeyUsage ENCRYPT_DECRYPT
	needSymmetricEncrypt              // symmetric ENCRYPT_DECRYPT (data keys)
	needMAC                           // GENERATE_VERIFY_MAC
	needSign                          // SIGN_VERIFY
	needKeyAgreement                  // KEY_AGREEMENT
	needAsymmetric                    // GetPublicKey
	needPrimary                       // multi-Region primary
	needEncapsulate                   // ENCAPSULATE_DECAPSULATE
)

var kindRules = [numOperations]uint16{
	RotateKeyOnDemand:                   needSymmetricRotation | needCustomerManaged,
	EnableKeyRotation:                   needSymmetricRotation | needCustomerManaged | needNotExternal,
	DisableKeyRotation:                  needSymmetricRotation | needCustomerManaged | needNotExternal,
	ScheduleKeyDeletion:                 needCustomerManaged,
	EnableKey:                           needCustomerManaged,
	DisableKey:                          needCustomerManaged,
	Encrypt:                             needEncryptDecrypt,
	Decrypt:                             needEncryptDecrypt,
	ReEncrypt:                           needEncryptDecrypt,
	GenerateDataKey:                     needSymmetricEncrypt,
	GenerateDataKeyWithoutPlaintext:     needSymmetricEncrypt,
	GenerateDataKeyPair:                 needSymmetricEncrypt,
	GenerateDataKeyPairWithoutPlaintext: needSymmetricEncrypt,
	GenerateMac:                         needMAC,
	VerifyMac:                           needMAC,
	Sign:                                needSign,
	Verify:                              needSign,
	DeriveSharedSecret:                  needKeyAgreement,
	Encapsulate:                         needEncapsulate,
	Decapsulate:                         needEncapsulate,
	GetPublicKey:                        needAsymmetric,
	ReplicateKey:                        needPrimary,
	UpdatePrimaryRegion:                 needPrimary,
}

func kindError(op Operation, s State, k Kind, arn string) error {
	r := kindRules[op]
	switch {
	case r&needCustomerManaged != 0 && k.Manager == AWSManaged:
		// D15. AWS records no message; kmsmodel's wording.
		return newError(ErrUnsupportedOperation, op, s, arn, " is an AWS managed key which is not valid for this operation.")
	case r&needSymmetricRotation != 0 && !k.Spec.IsSymmetric():
		// D8; real AWS answers an asymmetric key with an empty message (D19).
		return &Error{Code: ErrUnsupportedOperation, Op: op, KeyID: arn, State: s}
	case r&needSymmetricRotation != 0 && k.Origin.InCustomKeyStore(),
		r&needNotExternal != 0 && k.Origin == External:
		return originError(op, s, k, arn)
	case r&needSymmetricRotation != 0 && k.MultiRegion == Replica,
		r&needPrimary != 0 && k.MultiRegion != Primary:
		// The replica wording is the one recorded for ReplicateKey on a replica.
		return newError(ErrUnsupportedOperation, op, s, arn, " is not a multi-region primary key.")
	case r&needEncryptDecrypt != 0 && k.Usage != EncryptDecrypt,
		r&needSymmetricEncrypt != 0 && k.Usage != EncryptDecrypt,
		r&needMAC != 0 && k.Usage != GenerateVerifyMAC,
		r&needSign != 0 && k.Usage != SignVerify,
		r&needKeyAgreement != 0 && k.Usage != KeyAgreement,
		r&needEncapsulate != 0 && k.Usage != EncapsulateDecapsulate:
		// Recorded (asymmetric-hmac spec §2.5, §6, §7).
		return newError(ErrInvalidKeyUsage, op, s, arn,
			" key usage is "+k.Usage.String()+" which is not valid for "+op.String()+".")
	case r&needSymmetricEncrypt != 0 && !k.Spec.IsSymmetric():
		// An asymmetric ENCRYPT_DECRYPT key cannot encrypt data keys. No
		// message is recorded; kmsmodel's wording, after the usage one.
		return newError(ErrInvalidKeyUsage, op, s, arn,
			" key spec is "+k.Spec.String()+" which is not valid for "+op.String()+".")
	case r&needAsymmetric != 0 && !k.Spec.IsAsymmetric():
		return newError(ErrUnsupportedOperation, op, s, arn, " key spec is "+k.Spec.String()+", which is not valid for GetPublicKey.")
	}
	return nil
}
