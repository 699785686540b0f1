package main

import (
	"fmt"
	"io"
	"strings"
)

// A row is one line of the table.
type row struct {
	figure, value, floor, ratio, target, result string
}

const (
	pass    = "PASS"
	fail    = "FAIL"
	info    = "info"
	missing = "MISSING"
	// unresolved: the measurement's noise is larger than the target's
	// margin; the target is not shown to be met.
	unresolved = "UNRESOLVED"
)

func verdict(ok bool) string {
	if ok {
		return pass
	}
	return fail
}

// dur formats nanoseconds.
func dur(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func rate(v float64, unit string) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM %s", v/1e6, unit)
	case v >= 1e3:
		return fmt.Sprintf("%.0fk %s", v/1e3, unit)
	}
	return fmt.Sprintf("%.0f %s", v, unit)
}

func times(x float64) string { return fmt.Sprintf("%.1fx", x) }

// writeTable writes the table and returns how many targets were missed
// (a figure that was not measured counts as missed).
func writeTable(w io.Writer, r results) int {
	var rows []row
	add := func(x row) { rows = append(rows, x) }
	missingRow := func(figure, target string) {
		add(row{figure, "not measured", "—", "—", target, missing})
	}

	// Figure 1: an approval through the host's dispatch.
	approval := func(name string) (ns float64, desc string, ok bool) {
		b := "BenchmarkApproval/" + name
		ns, ok = r.get(b, "ns/op")
		if !ok {
			return 0, "", false
		}
		p50, _ := r.get(b, "p50-ns")
		p99, _ := r.get(b, "p99-ns")
		by, _ := r.get(b, "B/op")
		al, _ := r.get(b, "allocs/op")
		return ns, fmt.Sprintf("%s/op (p50 %s, p99 %s; %.0f B/op, %.0f allocs/op)", dur(ns), dur(p50), dur(p99), by, al), true
	}
	floor1, floorDesc, ok1 := approval("inproc")
	if ok1 {
		add(row{"1 approval: in-process Go handler (floor)", floorDesc, "—", "1.0x", "floor", info})
	} else {
		missingRow("1 approval: in-process Go handler (floor)", "floor")
	}
	for _, c := range []struct {
		name, figure, target string
		max                  float64
	}{
		{"inproc-sdk", "1 approval: the guest's code (sdk-guest) in process", "—", 0},
		{"wasm", "1 approval: Wasm plugin, pooled, deadline enforced", "≤ 10x", 10},
		{"process", "1 approval: go-plugin process plugin", "≤ 25x", 25},
	} {
		ns, desc, ok := approval(c.name)
		if !ok || !ok1 {
			missingRow(c.figure, c.target)
			continue
		}
		ratio := ns / floor1
		res := info
		if c.max > 0 {
			res = verdict(ratio <= c.max)
		}
		add(row{c.figure, desc, dur(floor1), times(ratio), c.target, res})
	}

	// Figure 2: the event pipeline on one core.
	evs := func(name string) (float64, bool) { return r.get("BenchmarkPipeline/"+name, "events/s") }
	none, okNone := evs("none")
	if okNone {
		add(row{"2 pipeline, 1 core: rpc → typed events, no renderer (floor)", rate(none, "events/s"), "—", "1.0x", "≥ 200k events/s", verdict(none >= 200e3)})
	} else {
		missingRow("2 pipeline, 1 core: rpc → typed events, no renderer (floor)", "≥ 200k events/s")
	}
	for _, c := range []struct {
		name, figure, target string
		check                func(v, ratio float64) bool
	}{
		{"builtin", "2 pipeline, 1 core: built-in renderer", "—", nil},
		{"wasm", "2 pipeline, 1 core: Wasm renderer as shipped (batched, deltas merged)", "≥ 100k events/s, ≤ 2x", func(v, ratio float64) bool { return v >= 100e3 && ratio <= 2 }},
		{"wasm-nomerge", "2 pipeline, 1 core: Wasm renderer, batched, deltas not merged", "—", nil},
		{"wasm-batch1", "2 pipeline, 1 core: Wasm renderer, one event per call", "—", nil},
	} {
		v, ok := evs(c.name)
		if !ok || !okNone {
			missingRow(c.figure, c.target)
			continue
		}
		ratio := none / v // time per event, relative to the floor
		res := info
		if c.check != nil {
			res = verdict(c.check(v, ratio))
		}
		add(row{c.figure, rate(v, "events/s"), rate(none, "events/s"), times(ratio), c.target, res})
	}
	bp50, okB := r.get("BenchmarkRenderLatency/builtin", "p50-ns")
	for _, c := range []struct{ name, figure string }{
		{"wasm", "2 lone event to output: Wasm renderer as shipped"},
		{"wasm-batch1", "2 lone event to output: Wasm renderer, one event per call"},
	} {
		p50, ok := r.get("BenchmarkRenderLatency/"+c.name, "p50-ns")
		p99, _ := r.get("BenchmarkRenderLatency/"+c.name, "p99-ns")
		if !ok || !okB {
			missingRow(c.figure, "p99 ≤ 50 ms")
			continue
		}
		add(row{c.figure, fmt.Sprintf("p50 %s, p99 %s", dur(p50), dur(p99)), "p50 " + dur(bp50) + " (built-in)", times(p50 / bp50), "p99 ≤ 50 ms", verdict(p99 <= 50e6)})
	}

	// Figure 3: loading.
	cold, okCold := r.get("BenchmarkLoad/compile-cold", "ns/op")
	hit, okHit := r.get("BenchmarkLoad/compile-cached", "ns/op")
	cached, okCached := r.get("BenchmarkLoad/load-cached", "ns/op")
	coldFigure := "3 compile a Go Wasm plugin: cold (floor)"
	if mb, ok := r.get("BenchmarkLoad/compile-cold", "MB-module"); ok {
		coldFigure = fmt.Sprintf("3 compile a Go Wasm plugin (%.1f MB): cold (floor)", mb)
	}
	if okCold {
		add(row{coldFigure, dur(cold), "—", "1.0x", "floor", info})
	} else {
		missingRow(coldFigure, "floor")
	}
	if okCold && okHit {
		add(row{"3 compile a Go Wasm plugin: compilation-cache hit", dur(hit), dur(cold), fmt.Sprintf("%.1fx faster", cold/hit), "≥ 10x faster", verdict(cold/hit >= 10)})
	} else {
		missingRow("3 compile a Go Wasm plugin: compilation-cache hit", "≥ 10x faster")
	}
	if okCached {
		add(row{"3 load a Go Wasm plugin from the cache (cache hit + first instance)", dur(cached), "—", "—", "—", info})
	} else {
		missingRow("3 load a Go Wasm plugin from the cache (cache hit + first instance)", "—")
	}
	for _, c := range []struct{ name, figure string }{
		{"sequential", "3 host start, 4 cached plugins, loaded one by one"},
		{"parallel", "3 host start, 4 cached plugins, loaded at once"},
	} {
		if v, ok := r.get("BenchmarkHostStart/"+c.name, "ns/op"); ok {
			ratio, floor := "—", "—"
			if okCached {
				ratio, floor = times(v/cached), dur(cached)+" (1 plugin)"
			}
			add(row{c.figure, dur(v), floor, ratio, "≤ 150 ms", verdict(v <= 150e6)})
		} else {
			missingRow(c.figure, "≤ 150 ms")
		}
	}
	if v, ok := r.get("BenchmarkInstance", "ns/op"); ok {
		add(row{"3 create one more instance (instantiate, init, describe, configure)", dur(v), "—", "—", "—", info})
	} else {
		missingRow("3 create one more instance (instantiate, init, describe, configure)", "—")
	}
	if v, ok := r.get("BenchmarkMemory", "MiB/instance"); ok {
		add(row{"3 memory per pooled instance (RSS)", fmt.Sprintf("%.1f MiB", v), "—", "—", "—", info})
	} else {
		missingRow("3 memory per pooled instance (RSS)", "—")
	}
	if v, ok := r.get("BenchmarkMemory", "MiB-rss-4plugins"); ok {
		base, _ := r.get("BenchmarkMemory", "MiB-rss-base")
		add(row{"3 host RSS with 4 plugins loaded", fmt.Sprintf("%.0f MiB", v), fmt.Sprintf("%.0f MiB (none)", base), times(v / base), "—", info})
	} else {
		missingRow("3 host RSS with 4 plugins loaded", "—")
	}
	// The start as a user waits for it: host process start to the first
	// turn request at the model, on the real codex.
	noPlugin, okNone := r.get("BenchmarkFirstTurn", "none-ms")
	four, okFour := r.get("BenchmarkFirstTurn", "plugins-ms")
	ratio4, _ := r.get("BenchmarkFirstTurn", "plugins-ratio")
	if okNone && okFour {
		add(row{"3 start to first turn request, real codex, no plugin (floor)", dur(noPlugin * 1e6), "—", "1.0x", "floor", info})
		add(row{"3 start to first turn request, 4 cached Wasm plugins loaded lazily (codexhost run)",
			dur(four * 1e6), dur(noPlugin * 1e6), fmt.Sprintf("%.2fx (median of per-run ratios)", ratio4), "≤ 1.15x", verdict(ratio4 <= 1.15)})
		if ready, ok := r.get("BenchmarkFirstTurn", "plugins-ready-ms"); ok {
			add(row{"3 start until the 4 lazy plugins have loaded", dur(ready * 1e6), "—", "—", "—", info})
		}
		if eager, ok := r.get("BenchmarkFirstTurn", "plugins-eager-ms"); ok {
			re, _ := r.get("BenchmarkFirstTurn", "plugins-eager-ratio")
			add(row{"3 start to first turn request, 4 cached Wasm plugins loaded at once while codex starts", dur(eager * 1e6), dur(noPlugin * 1e6), fmt.Sprintf("%.2fx", re), "—", info})
		}
		if nr, ok := r.get("BenchmarkFirstTurn", "plugins-norender-ms"); ok {
			rn, _ := r.get("BenchmarkFirstTurn", "plugins-norender-ratio")
			add(row{"3 start to first turn request, 3 cached Wasm plugins loaded lazily, no Wasm renderer (policy, rule policy, tool)", dur(nr * 1e6), dur(noPlugin * 1e6), fmt.Sprintf("%.2fx", rn), "—", info})
		}
		if ad, ok := r.get("BenchmarkFirstTurn", "plugins-admitted-ms"); ok {
			ra, _ := r.get("BenchmarkFirstTurn", "plugins-admitted-ratio")
			add(row{"3 start to first turn request, 4 cached Wasm plugins admitted, none loaded before the turn ends (admission alone)", dur(ad * 1e6), dur(noPlugin * 1e6), fmt.Sprintf("%.2fx", ra), "—", info})
		}
		hwm4, _ := r.get("BenchmarkFirstTurn", "plugins-MiB-hwm")
		hwm0, _ := r.get("BenchmarkFirstTurn", "none-MiB-hwm")
		add(row{"3 host peak RSS (VmHWM) once the turn has ended and the 4 plugins have loaded", fmt.Sprintf("%.0f MiB", hwm4), fmt.Sprintf("%.0f MiB (none)", hwm0), times(hwm4 / hwm0), "≤ 80 MiB", verdict(hwm4 <= 80)})
	} else {
		missingRow("3 start to first turn request, real codex, no plugin (floor)", "floor")
		missingRow("3 start to first turn request, 4 cached Wasm plugins loaded lazily (codexhost run)", "≤ 1.15x")
		missingRow("3 host peak RSS (VmHWM) once the turn has ended and the 4 plugins have loaded", "≤ 80 MiB")
	}
	if v, ok := r.get("BenchmarkProcessStart", "p50-ns"); ok {
		p99, _ := r.get("BenchmarkProcessStart", "p99-ns")
		add(row{"3 go-plugin start to first answer", fmt.Sprintf("p50 %s (p99 %s)", dur(v), dur(p99)), "—", "—", "≤ 50 ms", verdict(v <= 50e6)})
	} else {
		missingRow("3 go-plugin start to first answer", "≤ 50 ms")
	}

	// Figure 4: 64 threads with approvals on one connection.
	thr := func(name string) (float64, string, bool) {
		b := "BenchmarkConcurrentThreads/" + name
		v, ok := r.get(b, "approvals/s")
		if !ok {
			return 0, "", false
		}
		p50, _ := r.get(b, "p50-ns")
		p99, _ := r.get(b, "p99-ns")
		return v, fmt.Sprintf("%s, hook p50 %s, p99 %s", rate(v, "approvals/s"), dur(p50), dur(p99)), true
	}
	floor4, desc4, ok4 := thr("inproc")
	if ok4 {
		add(row{"4 64 threads, 2 cores: in-process handler (floor)", desc4, "—", "1.0x", "floor", info})
	} else {
		missingRow("4 64 threads, 2 cores: in-process handler (floor)", "floor")
	}
	for _, c := range []struct{ name, figure string }{
		{"wasm", "4 64 threads, 2 cores: Wasm plugin"},
		{"process", "4 64 threads, 2 cores: go-plugin plugin"},
	} {
		v, desc, ok := thr(c.name)
		if !ok || !ok4 {
			missingRow(c.figure, "—")
			continue
		}
		add(row{c.figure, desc, rate(floor4, "approvals/s"), times(floor4 / v), "—", info})
	}

	// Figure 5: a real codex turn.
	bare, okBare := r.get("BenchmarkRealTurn", "bare-ms")
	ch, okCH := r.get("BenchmarkRealTurn", "codexhost-ms")
	over, okOver := r.get("BenchmarkRealTurn", "overhead-%")
	if okBare && okCH && okOver {
		cpuA, _ := r.get("BenchmarkRealTurn", "bare-cpu-ms")
		add(row{"5 real codex turn: bare minimal client (floor)", fmt.Sprintf("%s (client CPU %.0f ms/turn)", dur(bare*1e6), cpuA), "—", "1.0x", "floor", info})
		lo, okLo := r.get("BenchmarkRealTurn", "overhead-ci-lo-%")
		hi, okHi := r.get("BenchmarkRealTurn", "overhead-ci-hi-%")
		cpuB, _ := r.get("BenchmarkRealTurn", "codexhost-cpu-ms")
		// Met only if the whole confidence interval is below the target;
		// missed if it is all above; else the noise hides the answer.
		res := unresolved
		switch {
		case !okLo || !okHi:
		case hi < 1:
			res = pass
		case lo >= 1:
			res = fail
		}
		add(row{"5 real codex turn: codexhost + Wasm policy + Wasm renderer, wall time",
			fmt.Sprintf("%s, overhead %+.2f%% (median of pairs; 95%% CI %+.1f%% .. %+.1f%%); host CPU %.0f ms/turn", dur(ch*1e6), over, lo, hi, cpuB),
			dur(bare * 1e6), fmt.Sprintf("%.3fx", ch/bare), "< 1% overhead", res})
		if crit, ok := r.get("BenchmarkRealTurn", "critical-ms"); ok {
			add(row{"5 real codex turn: codexhost's own time on the critical path (approval decision, render drain)",
				fmt.Sprintf("%s = %.3f%% of the bare turn", dur(crit*1e6), 100*crit/bare), dur(bare * 1e6), fmt.Sprintf("%.4fx", crit/bare), "< 1%", verdict(crit/bare < 0.01)})
		} else {
			missingRow("5 real codex turn: codexhost's own time on the critical path (approval decision, render drain)", "< 1%")
		}
	} else {
		missingRow("5 real codex turn: bare minimal client (floor)", "floor")
		missingRow("5 real codex turn: codexhost + Wasm policy + Wasm renderer, wall time", "< 1% overhead")
		missingRow("5 real codex turn: codexhost's own time on the critical path (approval decision, render drain)", "< 1%")
	}

	// Figure 6: what measuring a plugin call costs (plugins/chain/metrics,
	// on client_golang), next to the unmeasured call.
	raw, okRaw := r.get("BenchmarkPluginCall/raw", "ns/op")
	ins, okIns := r.get("BenchmarkPluginCall/instrumented", "ns/op")
	insAllocs, _ := r.get("BenchmarkPluginCall/instrumented", "allocs/op")
	if okRaw && okIns {
		add(row{"6 plugin call, unmeasured (floor)", dur(raw), "—", "1.0x", "floor", info})
		over := ins - raw
		add(row{"6 plugin call, measured (metrics.Host.Instrument)", fmt.Sprintf("%s (+%s), %.0f allocs/op", dur(ins), dur(over), insAllocs),
			dur(raw), times(ins / raw), "≤ 120 ns over the floor, 0 allocs", verdict(over <= 120 && insAllocs == 0)})
		if tr, ok := r.get("BenchmarkPluginCall/traced", "ns/op"); ok {
			trAllocs, _ := r.get("BenchmarkPluginCall/traced", "allocs/op")
			add(row{"6 plugin call, traced (OpenTelemetry span; off: not wrapped, 0 ns)", fmt.Sprintf("%s (+%s), %.0f allocs/op", dur(tr), dur(tr-raw), trAllocs),
				dur(raw), times(tr / raw), "—", info})
		}
	} else {
		missingRow("6 plugin call, unmeasured (floor)", "floor")
		missingRow("6 plugin call, measured (metrics.Host.Instrument)", "≤ 120 ns over the floor, 0 allocs")
	}

	// Figure 7: a stalled consumer of a stream of a million deltas.
	if v, ok := r.get("BenchmarkStalledConsumer/default", "MB-peak-rss"); ok {
		st, _ := r.get("BenchmarkStalledConsumer/default", "MB-peak-rss-stalled")
		old, okOld := r.get("BenchmarkStalledConsumer/inbox-64MiB", "MB-peak-rss")
		floor, ratio := "—", "—"
		if okOld {
			oldSt, _ := r.get("BenchmarkStalledConsumer/inbox-64MiB", "MB-peak-rss-stalled")
			floor, ratio = fmt.Sprintf("%.0f MB (%.0f MB stalled) with a 64 MiB inbox", old, oldSt), fmt.Sprintf("%.2fx", v/old)
		}
		add(row{"7 stalled consumer, 1M deltas, default MaxQueuedBytes: peak RSS (none lost)",
			fmt.Sprintf("%.1f MB (%.1f MB at the end of the stall)", v, st), floor, ratio, "≤ 64 MB", verdict(v <= 64)})
	} else {
		missingRow("7 stalled consumer, 1M deltas, default MaxQueuedBytes: peak RSS (none lost)", "≤ 64 MB")
	}

	// Figures 8 and 10: approvals and deltas over the wire against the
	// raw floor client (host/internal/benchmarks wireBench).
	wireRows := func(bench, unit, floorFigure, figure string, target float64) {
		floor, okF := r.get(bench, "floor-ns/"+unit)
		if okF {
			add(row{floorFigure, dur(floor) + "/" + unit, "—", "1.0x", "floor", info})
		} else {
			missingRow(floorFigure, "floor")
		}
		want := fmt.Sprintf("≤ %gx", target)
		v, ok := r.get(bench, "host-ns/"+unit)
		x, okX := r.get(bench, "x-floor")
		if ok && okX {
			add(row{figure, dur(v) + "/" + unit, dur(floor) + "/" + unit, fmt.Sprintf("%.2fx (median of pairs)", x), want, verdict(x <= target)})
		} else {
			missingRow(figure, want)
		}
	}
	wireRows("BenchmarkApprovalWire", "approval", "8 approvals over the wire: raw Go client, encoding/json, one goroutine (floor)",
		"8 approvals over the wire: codexhost, Go handler", 1.2)

	// Figure 9: what the OTLP decision log stream adds to a decision on
	// the answer's path (plugins/chain/audit), next to the local log's
	// append (write + fsync), which every decision with --audit pays.
	localNs, okLocal := r.get("BenchmarkDecisionLog/local", "ns/op")
	if okLocal {
		add(row{"9 decision, local audit log append (write + fsync; floor)", dur(localNs), "—", "1.0x", "floor", info})
	} else {
		missingRow("9 decision, local audit log append (write + fsync; floor)", "floor")
	}
	for _, c := range []struct{ name, figure string }{
		{"BenchmarkDecisionLog/local+stream", "9 decision, local append + OTLP log record queued"},
		{"BenchmarkDecisionLog/stream", "9 decision, OTLP log record queued (no local log)"},
	} {
		v, ok := r.get(c.name, "ns/op")
		if !ok {
			missingRow(c.figure, "—")
			continue
		}
		allocs, _ := r.get(c.name, "allocs/op")
		floor, ratio := "—", "—"
		if okLocal {
			floor, ratio = dur(localNs), times(v/localNs)
		}
		add(row{c.figure, fmt.Sprintf("%s, %.0f allocs/op", dur(v), allocs), floor, ratio, "—", info})
	}

	wireRows("BenchmarkDeltaWire", "delta", "10 deltas over the wire: raw Go client, encoding/json, one goroutine (floor)",
		"10 deltas over the wire: codexhost, Turn.Events, 100% delivered", 0.7)

	// Figure 11: package initialization of a program importing host.
	const initFigure = "11 package init of a program importing host (GODEBUG=inittrace=1, sum of clock times)"
	if v, ok := r.get("BenchmarkPackageInit", "init-ms"); ok {
		n, _ := r.get("BenchmarkPackageInit", "packages")
		add(row{initFigure, fmt.Sprintf("%.2f ms (%.0f packages)", v, n), "—", "—", "≤ 5 ms", verdict(v <= 5)})
	} else {
		missingRow(initFigure, "≤ 5 ms")
	}

	fmt.Fprintln(w, "| figure | value | floor | ratio | target | result |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	failed := 0
	for _, x := range rows {
		if x.result == fail || x.result == missing || x.result == unresolved {
			failed++
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join([]string{x.figure, x.value, x.floor, x.ratio, x.target, x.result}, " | "))
	}
	return failed
}
