;; schema-number: a settings schema whose multipleOf, 1e-10000000, is a
;; JSON number that math/big cannot represent (big.Rat.SetString fails):
;; checking the schema against its metaschema (multipleOf > 0) compares a
;; nil *big.Rat and panics in santhosh-tekuri/jsonschema.
;; Expect: load fails with ErrBadManifest; the host stays up
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
  (data (i32.const 4096) "\00{\22name\22:\22hostile-schema-number\22,\22version\22:\220.1.0\22,\22abi\22:1,\22hooks\22:[\22approval\22],\22settingsSchema\22:{\22type\22:\22object\22,\22properties\22:{\22every\22:{\22multipleOf\22:1e-10000000}}}}")
  (data (i32.const 200) "\00")
  (data (i32.const 208) "\00{\"decision\":\"abstain\"}")
  ;; a poll_oneoff clock subscription: relative, 2^44 ns
  (data (i32.const 528) "\01\00\00\00\00\00\00\00\00\00\00\00\00\10\00\00")
  ;; an iovec {800, 100} for fd_write
  (data (i32.const 700) "\20\03\00\00\64\00\00\00")
  (data (i32.const 800) "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n")
  ;; a log line at 920, 16 bytes
  (data (i32.const 920) "hostile log line")
  (global $next (mut i32) (i32.const 8192))
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))

  ;; poll_oneoff on one relative clock subscription of 2^44 ns (4.9 h)
  (func $sleep
    (drop (call $poll_oneoff (i32.const 512) (i32.const 600) (i32.const 1) (i32.const 640))))
  (func (export "_initialize"))
  (func (export "codexhost_abi_version") (result i32)
    (i32.const 1))
  (func (export "codexhost_alloc") (param $size i32) (result i32)
    (local $ptr i32) (local $end i32) (local $have i32)
    (local.set $ptr (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $next (local.get $end))
    (local.get $ptr))
  (func (export "codexhost_free") (param $p i32)
    )
  (func (export "codexhost_describe") (result i64)
    (call $pack (i32.const 4096) (i32.const 165)))
  (func (export "codexhost_configure") (param i32 i32) (result i64)
    (call $pack (i32.const 200) (i32.const 1)))
  (func (export "codexhost_handle") (param $hook i32) (param $ptr i32) (param $len i32) (result i64)
    (call $pack (i32.const 208) (i32.const 23)))
)
