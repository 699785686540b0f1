;; alloc-zero: codexhost_alloc returns 0 (cannot allocate)
;; Expect: load fails: memory
;;
;; A guest of the hostile-plugin suite (plugins/internal/hostile).
;; Build: make testdata
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "codexhost" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\00{\22name\22:\22hostile-alloc-zero\22,\22version\22:\220.1.0\22,\22abi\22:1,\22hooks\22:[\22approval\22]}")
  (data (i32.const 200) "\00")
  (data (i32.const 208) "\00{\"decision\":\"abstain\"}")
  ;; a poll_oneoff clock subscription: relative, 2^44 ns
  (data (i32.const 528) "\01\00\00\00\00\00\00\00\00\00\00\00\00\10\00\00")
  ;; an iovec {800, 100} for fd_write
  (data (i32.const 700) "\20\03\00\00\64\00\00\00")
  (data (i32.const 800) "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n")
  ;; a log line at 920, 16 bytes
  (data (i32.const 920) "hostile log line")
  (global $next (mut i32) (i32.const 4096))
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))

  ;; poll_oneoff on one relative clock subscription of 2^44 ns (4.9 h)
  (func $sleep
    (drop (call $poll_oneoff (i32.const 512) (i32.const 600) (i32.const 1) (i32.const 640))))
  (func (export "codexhost_abi_version") (result i32)
    (i32.const 1))
  (func (export "codexhost_alloc") (param $size i32) (result i32)
    (i32.const 0))
  (func (export "codexhost_free") (param $p i32)
    )
  (func (export "codexhost_describe") (result i64)
    (call $pack (i32.const 16) (i32.const 77)))
  (func (export "codexhost_configure") (param i32 i32) (result i64)
    (call $pack (i32.const 200) (i32.const 1)))
  (func (export "codexhost_handle") (param $hook i32) (param $ptr i32) (param $len i32) (result i64)
    (call $pack (i32.const 208) (i32.const 23)))
)
