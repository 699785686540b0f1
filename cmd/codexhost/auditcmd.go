package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// cmdAuditVerify runs "codexhost audit verify" with the arguments after
// "verify".
func cmdAuditVerify(_ context.Context, cio *cmdIO, args []string) error {
	fset := newFlagSet(cio, "audit verify", `audit verify [--prev HASH] FILE...

Checks the hash chain of a decision audit log (--audit FILE): every record
must carry the hash of the one before it (the first one the genesis
hash) and its own hash must match its bytes. A rotated log is verified
oldest file first: codexhost audit verify FILE.2 FILE.1 FILE. On success
prints the number of records and the hash of the last one (keep it
elsewhere: a chain cannot show records cut off its end). Otherwise prints
the first broken record, FILE:LINE and why, and exits 1.`)
	prev := fset.String("prev", "", "the hash the first record's prev must be instead of the genesis: the head of the file rotated before FILE")
	if err := parseFlags(cio, fset, args); err != nil {
		return err
	}
	if fset.NArg() == 0 {
		fset.Usage()
		return usageErr("audit verify: want the audit log FILE (oldest first, for rotated files)")
	}
	if *prev != "" {
		// A hash of the chain: sha256: and 64 hex digits (the head printed
		// by the verify of the file before).
		h, ok := strings.CutPrefix(*prev, "sha256:")
		if b, err := hex.DecodeString(h); !ok || err != nil || len(b) != sha256.Size || h != strings.ToLower(h) {
			return usageErr("audit verify: --prev %q: want a record hash, sha256: and 64 lower-case hex digits", *prev)
		}
	}
	sum, err := audit.Verify(fset.Args(), &audit.VerifyOptions{Prev: *prev})
	var be *audit.BrokenError
	switch {
	case errors.As(err, &be):
		return fail(exitTurnFailed, "audit verify: %s:%d: record %d of the chain breaks it (%s): %s",
			safeText(be.File), be.Line, sum.Records+1, be.Kind, safeText(be.Reason))
	case errors.Is(err, fs.ErrNotExist):
		return usageErr("audit verify: %s", safeText(err.Error()))
	case err != nil:
		return fail(exitTurnFailed, "audit verify: %s", safeText(oneLine(err.Error())))
	}
	fmt.Fprintf(cio.stdout, "ok: %d records, head %s\n", sum.Records, sum.Head)
	return nil
}
