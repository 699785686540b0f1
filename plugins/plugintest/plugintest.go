// Package plugintest is the conformance kit of the codexhost plugin ABI: it
// runs reference guests through a plugin runtime and checks that the
// runtime implements the [plugins.Plugin] contract (docs/abi.md).
//
// A runtime's test supplies a [Loader] that loads a named reference guest:
//
//	func TestConformance(t *testing.T) {
//		plugintest.Run(t, func(t *testing.T, guest string, opts *plugins.Options) (plugins.Plugin, error) {
//			return myruntime.Load(ctx, plugintest.GuestWasm(t, guest), opts)
//		})
//	}
//
// The reference guests are sdk-guest/internal/testguests/{ref,approveall,
// abstain} (Go, built with sdk-guest) and testdata/wat/{declineall,sleeper}.wat
// (hand-written WebAssembly text: it proves the ABI does not need Go). A
// runtime that cannot run one returns [ErrNoGuest] from its Loader, and
// that guest's cases are skipped; [Options] skips single cases.
package plugintest

import (
	"errors"
	"slices"
	"testing"

	"github.com/codexhost/codexhost/plugins"
)

// The reference guests.
const (
	// GuestRef exercises every hook and every failure mode; see
	// sdk-guest/internal/testguests/ref.
	GuestRef = "ref"
	// GuestApproveAll accepts every approval ("approve-all").
	GuestApproveAll = "approveall"
	// GuestAbstain abstains on every approval.
	GuestAbstain = "abstain"
	// GuestDeclineAllWAT declines every approval and implements no other
	// hook; it is written in WebAssembly text (testdata/wat/declineall.wat).
	GuestDeclineAllWAT = "declineall-wat"
	// GuestSleeperWAT sleeps in WASI poll_oneoff for hours on every
	// approval and implements no other hook (testdata/wat/sleeper.wat): a
	// runtime must wake it at the deadline, on cancellation and on Close.
	// It is a WebAssembly guest only.
	GuestSleeperWAT = "sleeper-wat"
)

// Guests lists the reference guests, in the order Run runs them.
var Guests = []string{GuestRef, GuestApproveAll, GuestAbstain, GuestDeclineAllWAT, GuestSleeperWAT}

// A Loader loads the named reference guest in the runtime under test, with
// opts (never nil; zero fields mean the runtime's defaults). It returns the
// runtime's load error as is (a configure failure must come back as an
// *abi.Error), or an error wrapping ErrNoGuest if the runtime cannot run
// that guest. The kit closes every plugin it loads.
type Loader func(t *testing.T, guest string, opts *plugins.Options) (plugins.Plugin, error)

// ErrNoGuest is returned (wrapped) by a Loader for a guest the runtime
// under test cannot run; the guest's cases are then skipped.
var ErrNoGuest = errors.New("plugintest: guest not available in this runtime")

// Options tune the kit for a runtime. A nil *Options means defaults.
type Options struct {
	// Skip names cases to skip, as "guest/case" (e.g. "ref/memory-limit")
	// or "case" for every guest: for a runtime that cannot support them
	// (a process runtime has no memory limit of its own).
	Skip []string
	// MemoryLimitAsTrap accepts plugins.FailTrap, not only FailMemory,
	// when a guest exceeds its memory limit, for a runtime that cannot
	// tell that from another crash.
	MemoryLimitAsTrap bool
}

// Run runs every case of the kit for every reference guest, as subtests
// of t named "guest/case".
func Run(t *testing.T, load Loader) { RunWith(t, load, nil) }

// RunWith is [Run] with options.
func RunWith(t *testing.T, load Loader, opts *Options) {
	for _, g := range Guests {
		t.Run(g, func(t *testing.T) { RunGuest(t, load, g, opts) })
	}
}

// RunGuest runs the cases of one reference guest (one of [Guests]) on t.
func RunGuest(t *testing.T, load Loader, guest string, opts *Options) {
	var o Options
	if opts != nil {
		o = *opts
	}
	k := &kit{load: load, guest: guest, opts: o}
	var cases []testCase
	switch guest {
	case GuestRef:
		cases = refCases
	case GuestApproveAll:
		cases = approveAllCases
	case GuestAbstain:
		cases = abstainCases
	case GuestDeclineAllWAT:
		cases = declineAllCases
	case GuestSleeperWAT:
		cases = sleeperCases
	default:
		t.Fatalf("plugintest: unknown guest %q", guest)
	}
	// Load once up front: a missing guest skips every case at once.
	k.shared(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if slices.Contains(o.Skip, c.name) || slices.Contains(o.Skip, guest+"/"+c.name) {
				t.Skip("skipped by plugintest.Options.Skip")
			}
			c.run(t, k)
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, k *kit)
}
