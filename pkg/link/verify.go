package link

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/grenache-go/grenache/pkg/bep44"
)

// ErrVerify matches every *VerifyError.
var ErrVerify = errors.New("link: item failed verification")

// The checks a VerifyError names.
const (
	// CheckValueHash: an immutable value does not hash to the target.
	CheckValueHash = "value hash"
	// CheckKeySalt: sha1(k ‖ salt) of a mutable item is not the target.
	CheckKeySalt = "key and salt"
	// CheckSignature: the ed25519 signature does not cover (salt, seq, v)
	// under k.
	CheckSignature = "signature"
	// CheckMalformed: k, sig or seq are missing or of the wrong size.
	CheckMalformed = "malformed item"
	// CheckTarget: a put's reply is not the target of what was put.
	CheckTarget = "put target"
)

// VerifyError says which BEP44 check an item from a grape failed.
type VerifyError struct {
	Target string // the 40-hex target asked for
	Check  string // one of the Check* constants
	Detail string
}

// Error implements error.
func (e *VerifyError) Error() string {
	return fmt.Sprintf("link: item %s failed verification: %s: %s", e.Target, e.Check, e.Detail)
}

// Is makes errors.Is(err, ErrVerify) true.
func (e *VerifyError) Is(target error) bool { return target == ErrVerify }

// verifyItem applies BEP44's checks to a /get reply for target and salt.
func verifyItem(it *Item, target [20]byte, salt string) error {
	tg := hex.EncodeToString(target[:])
	fail := func(check, format string, args ...any) error {
		return &VerifyError{Target: tg, Check: check, Detail: fmt.Sprintf(format, args...)}
	}
	v := []byte(it.V)
	if !it.Mutable() {
		if got := bep44.ImmutableTarget(v); got != target {
			return fail(CheckValueHash, "sha1(bencode(v)) of the %d-byte value returned is %x", len(v), got)
		}
		return nil
	}
	k, kerr := hex.DecodeString(it.K)
	sig, serr := hex.DecodeString(it.Sig)
	switch {
	case kerr != nil || len(k) != 32:
		return fail(CheckMalformed, "k %.80q is not a 32-byte hex key", it.K)
	case serr != nil || len(sig) != 64:
		return fail(CheckMalformed, "sig %.140q is not a 64-byte hex signature", it.Sig)
	case it.Seq == nil:
		return fail(CheckMalformed, "a signed item without seq")
	}
	if got := bep44.MutableTarget((*[32]byte)(k), []byte(salt)); got != target {
		return fail(CheckKeySalt, "sha1(k ‖ salt %q) is %x for k %s", salt, got, it.K)
	}
	if !bep44.Verify(k, []byte(salt), *it.Seq, v, sig) {
		return fail(CheckSignature, "the ed25519 signature of seq %d and the %d-byte value does not verify under k %s", *it.Seq, len(v), it.K)
	}
	return nil
}
