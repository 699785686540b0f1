;; schema-bomb: a settings schema of 1.2 KB whose validation is exponential:
;; 18 levels of anyOf, each of two $refs to the next, over a leaf that
;; always fails ({"not":{}}); settings (even none, checked as null) are
;; tried 2^18 ways, and every failure is kept.
;; Expect: load fails within its deadline, with a bounded error
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
  (data (i32.const 4096) "\00{\22name\22:\22hostile-schema-bomb\22,\22version\22:\220.1.0\22,\22abi\22:1,\22hooks\22:[\22approval\22],\22settingsSchema\22:{\22$ref\22:\22#/$defs/a0\22,\22$defs\22:{\22a0\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a1\22},{\22$ref\22:\22#/$defs/a1\22}]},\22a1\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a2\22},{\22$ref\22:\22#/$defs/a2\22}]},\22a2\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a3\22},{\22$ref\22:\22#/$defs/a3\22}]},\22a3\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a4\22},{\22$ref\22:\22#/$defs/a4\22}]},\22a4\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a5\22},{\22$ref\22:\22#/$defs/a5\22}]},\22a5\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a6\22},{\22$ref\22:\22#/$defs/a6\22}]},\22a6\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a7\22},{\22$ref\22:\22#/$defs/a7\22}]},\22a7\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a8\22},{\22$ref\22:\22#/$defs/a8\22}]},\22a8\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a9\22},{\22$ref\22:\22#/$defs/a9\22}]},\22a9\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a10\22},{\22$ref\22:\22#/$defs/a10\22}]},\22a10\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a11\22},{\22$ref\22:\22#/$defs/a11\22}]},\22a11\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a12\22},{\22$ref\22:\22#/$defs/a12\22}]},\22a12\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a13\22},{\22$ref\22:\22#/$defs/a13\22}]},\22a13\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a14\22},{\22$ref\22:\22#/$defs/a14\22}]},\22a14\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a15\22},{\22$ref\22:\22#/$defs/a15\22}]},\22a15\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a16\22},{\22$ref\22:\22#/$defs/a16\22}]},\22a16\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a17\22},{\22$ref\22:\22#/$defs/a17\22}]},\22a17\22:{\22anyOf\22:[{\22$ref\22:\22#/$defs/a18\22},{\22$ref\22:\22#/$defs/a18\22}]},\22a18\22:{\22not\22:{}}}}}")
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
    (call $pack (i32.const 4096) (i32.const 1268)))
  (func (export "codexhost_configure") (param i32 i32) (result i64)
    (call $pack (i32.const 200) (i32.const 1)))
  (func (export "codexhost_handle") (param $hook i32) (param $ptr i32) (param $len i32) (result i64)
    (call $pack (i32.const 208) (i32.const 23)))
)
