;; log-empty-flood: each hook call logs 10,000 lines of zero bytes through
;; codexhost.log (level INFO, len 0), then answers abstain. A zero-length
;; line costs nothing of the output budgets (takeAll(0) always fits), yet
;; each is a record in the host's log: the lines a call logs are unbounded.
;;
;; Build: wat2wasm log-empty-flood.wat -o log-empty-flood.wasm  (or: make testdata)
(module
  (import "codexhost" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\00{\"name\":\"log-empty-flood\",\"version\":\"0.1.0\",\"abi\":1,\"hooks\":[\"approval\"]}")
  (data (i32.const 200) "\00")
  (data (i32.const 208) "\00{\"decision\":\"abstain\"}")
  (global $next (mut i32) (i32.const 1024))
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "codexhost_abi_version") (result i32) (i32.const 1))
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
  (func (export "codexhost_free") (param i32))
  (func (export "codexhost_describe") (result i64)
    (call $pack (i32.const 16) (i32.const 74)))
  (func (export "codexhost_configure") (param i32 i32) (result i64)
    (call $pack (i32.const 200) (i32.const 1)))
  (func (export "codexhost_handle") (param $hook i32) (param $ptr i32) (param $len i32) (result i64)
    (local $i i32)
    (loop $again
      (call $log (i32.const 0) (i32.const 0) (i32.const 0))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 10000))))
    (call $pack (i32.const 208) (i32.const 23)))
)
