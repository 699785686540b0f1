package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/codexhost/codexhost/cmd/codexhost/internal/config"
	"github.com/codexhost/codexhost/internal/regfile"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/metrics"
)

// A reloader keeps the chain's plugin set in step with the configuration
// file: on SIGHUP, and when the file (or a settings or plugin file it
// names) changes, it loads and verifies the new set in the background and
// swaps it into the chain; if anything fails it keeps the set in use and
// reports why, on stderr and in the metrics.
//
// It owns one goroutine (Close stops it) and one per retired generation,
// which closes that generation's plugins once the chain no longer uses
// them. Close waits for all of them.
type reloader struct {
	c       *runConfig
	chain   *chain.Chain
	extra   []chain.Member
	m       *metrics.Host // nil without metrics
	stderr  io.Writer
	initial *config.File // the file at start, for start-time keys

	mu  sync.Mutex
	cur *generation // owned; closed by Close
	// watched and their last seen state; sum is the hash of their
	// contents at the last reload attempt.
	watched []string
	stats   map[string]fileStat
	sum     [32]byte
	// pending is the hash of a changed content seen at the last poll and
	// not yet reloaded: a change is reloaded once its content has stayed
	// the same for one poll interval, so that a file being written (an
	// editor or os.WriteFile truncates it first) is never loaded half
	// written. Zero when nothing is pending.
	pending [32]byte

	hup     chan os.Signal
	stop    chan struct{}
	done    chan struct{}
	retired sync.WaitGroup

	reloads       *metrics.Reloads
	closeOnce     sync.Once
	drainTimeout  time.Duration
	reloadTimeout time.Duration
}

// errEmptyConfig refuses the reload of an empty configuration file.
var errEmptyConfig = errors.New("the file is empty (written but not yet filled?); an empty configuration is not applied on reload: write the keys, or `render = \"exec\"` alone to run without plugins")

// errGuardOnReload refuses the reload that would give a policy or plugin
// to a run that started without one: the checks a policy needs were made
// at start only if it had one (checkEffectiveApproval, checkProjectMCP,
// the untrusted approval policy asked for), so codex might never ask it.
var errGuardOnReload = errors.New("the run started without a policy or plugin, so codex's approval settings were not checked for one (the untrusted approval policy asked for; codex's approval policy, approvals reviewer, permission hooks, exec-policy allow rules and the project's MCP servers refused): codex might never ask it; restart codexhost to load it")

type fileStat struct {
	size  int64
	mtime time.Time
	ok    bool
}

// newReloader takes ownership of gen. It does not start; call start.
func newReloader(c *runConfig, chain *chain.Chain, gen *generation, extra []chain.Member, m *metrics.Host, stderr io.Writer) *reloader {
	r := &reloader{c: c, chain: chain, cur: gen, extra: extra, m: m, stderr: stderr, initial: c.ops.file,
		hup: c.hup, stop: make(chan struct{}), done: make(chan struct{}),
		drainTimeout: 30 * time.Second, reloadTimeout: 5 * time.Minute}
	if m != nil {
		r.reloads = m.Reloads()
	}
	r.watched = c.ops.file.WatchedFiles()
	r.stats, r.sum = snapshot(r.watched)
	return r
}

// start starts watching: SIGHUP from now on, and polling the files if the
// configuration asks for it.
func (r *reloader) start() {
	if r.hup == nil { // a runConfig that did not catch it from the start
		r.hup = make(chan os.Signal, 1)
		signal.Notify(r.hup, syscall.SIGHUP)
	}
	go r.loop()
}

func (r *reloader) loop() {
	defer close(r.done)
	defer signal.Stop(r.hup)
	f := r.c.ops.file
	var tick <-chan time.Time
	if f.Watch() {
		t := time.NewTicker(f.ReloadInterval())
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-r.stop:
			return
		case <-r.hup:
			r.reload("SIGHUP")
		case <-tick:
			if r.changed() {
				r.reload("file changed")
			}
		}
	}
}

// snapshot stats and hashes files.
func snapshot(files []string) (map[string]fileStat, [32]byte) {
	stats := map[string]fileStat{}
	h := sha256.New()
	for _, p := range files {
		st, err := os.Stat(p)
		if err != nil {
			stats[p] = fileStat{}
			fmt.Fprintf(h, "%s\x00missing\x00", p)
			continue
		}
		stats[p] = fileStat{size: st.Size(), mtime: st.ModTime(), ok: true}
		fmt.Fprintf(h, "%s\x00", p)
		// Not os.ReadFile: a FIFO put there (a process plugin runs with
		// the operator's rights) would block the poll, and Close with it.
		// A file that is no regular file hashes as such: a change.
		if b, err := regfile.Read(p); err == nil {
			h.Write(b)
		} else {
			fmt.Fprintf(h, "\x00unreadable: %v", err)
		}
		h.Write([]byte{0})
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return stats, sum
}

// changed reports whether a watched file's content changed since the last
// reload attempt and has then stayed the same for one poll: cheap stats
// every poll, a hash only when one changed or a change is pending.
func (r *reloader) changed() bool {
	same := true
	for _, p := range r.watched {
		st, err := os.Stat(p)
		prev := r.stats[p]
		if err != nil {
			if prev.ok {
				same = false
			}
			continue
		}
		if !prev.ok || st.Size() != prev.size || !st.ModTime().Equal(prev.mtime) {
			same = false
		}
	}
	if same && r.pending == ([32]byte{}) {
		return false
	}
	stats, sum := snapshot(r.watched)
	r.stats = stats
	switch {
	case sum == r.sum:
		r.pending = [32]byte{} // touched, or changed back: nothing to do
		return false
	case sum != r.pending:
		r.pending = sum // changed: reload if it is the same at the next poll
		return false
	}
	r.pending = [32]byte{}
	return true
}

// reload loads the file and swaps the new set in, or reports why not.
func (r *reloader) reload(why string) {
	path := r.c.ops.file.Path
	t0 := time.Now()
	// Whatever happens, this content has been tried: do not retry it on
	// every poll.
	r.stats, r.sum = snapshot(r.watched)
	r.pending = [32]byte{}
	ctx, cancel := context.WithTimeout(context.Background(), r.reloadTimeout)
	defer cancel()
	go func() {
		select {
		case <-r.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	// The metrics are updated before the outcome is printed: whoever reads
	// the message and then scrapes sees the reload counted.
	fail := func(err error) {
		if r.m != nil {
			r.reloads.Observe(false)
		}
		fmt.Fprintf(r.stderr, "codexhost: reload of %s (%s) failed; still using plugin set %d: %s\n",
			path, why, r.chain.Generation(), termsafe.Line(oneLine(err.Error())))
	}
	if st, err := os.Stat(path); err == nil && st.Size() == 0 {
		// An empty file is valid TOML, and as a configuration it means no
		// plugins: more often a write in progress than a wish. A reload
		// never drops every plugin on an empty file.
		fail(errEmptyConfig)
		return
	}
	f, err := config.Load(path)
	if err != nil {
		fail(err)
		return
	}
	spec, err := r.c.spec(f)
	if err != nil {
		fail(err)
		return
	}
	if !r.c.guarded() && (spec.policy != "" || len(spec.plugins) > 0) {
		fail(errGuardOnReload)
		return
	}
	// Not lazy: the new set replaces one that works only once it has
	// loaded.
	gen, err := r.c.loadGeneration(ctx, spec, r.extra, r.m, false)
	if err != nil {
		fail(err)
		return
	}
	retired, err := r.chain.Swap(gen.set())
	if err != nil {
		gen.close()
		fail(err)
		return
	}
	r.mu.Lock()
	old := r.cur
	r.cur = gen
	r.mu.Unlock()
	// Watch what the new file names.
	r.watched = f.WatchedFiles()
	r.stats, r.sum = snapshot(r.watched)
	r.retired.Add(1)
	go func() {
		defer r.retired.Done()
		// In-flight requests finish on the old plugins; then close them.
		t := time.NewTimer(r.drainTimeout)
		defer t.Stop()
		select {
		case <-retired.Done():
		case <-t.C:
		}
		old.close()
	}()
	took := time.Since(t0)
	if took >= time.Millisecond {
		took = took.Round(time.Millisecond)
	} else {
		took = took.Round(time.Microsecond)
	}
	if r.m != nil {
		r.reloads.Observe(true)
	}
	fmt.Fprintf(r.stderr, "codexhost: reloaded %s (%s): plugin set %d: %s (loaded in %s)\n",
		path, why, r.chain.Generation(), termsafe.Line(gen.describe()), took)
	if keys := startTimeChanges(r.initial, f); len(keys) > 0 {
		fmt.Fprintf(r.stderr, "codexhost: reload: %v changed in %s; they apply at the next start\n", keys, path)
	}
}

// startTimeChanges lists the keys that changed between a and b and that
// only apply at start.
func startTimeChanges(a, b *config.File) []string {
	var out []string
	if a.Render != b.Render {
		out = append(out, "render")
	}
	if a.Audit != b.Audit {
		out = append(out, "audit")
	}
	if a.Judge != b.Judge {
		out = append(out, "judge")
	}
	if a.Metrics != b.Metrics {
		out = append(out, "metrics")
	}
	if !reflect.DeepEqual(a.Reload, b.Reload) {
		out = append(out, "reload")
	}
	if !reflect.DeepEqual(a.Codex, b.Codex) {
		out = append(out, "codex")
	}
	return out
}

// Close stops watching, waits for a reload in progress and for retired
// plugin sets to be closed, then closes the current one. Call it after the
// Client is closed, so that no request is in flight. It is idempotent; it
// must follow start.
func (r *reloader) Close() {
	r.closeOnce.Do(func() {
		close(r.stop)
		<-r.done
		r.retired.Wait()
		r.mu.Lock()
		r.cur.close()
		r.mu.Unlock()
	})
}
