;; sleeper: a reference guest of the conformance kit that sleeps in WASI
;; poll_oneoff (as Go's time.Sleep does) for 4.9 hours on every approval
;; request, and answers any other hook with an "unsupported hook" error. A
;; runtime must wake it at the call's deadline, when the call's context is
;; cancelled, and when the plugin is closed.
;;
;; Build: wat2wasm sleeper.wat -o sleeper.wasm  (or: make testdata)
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; The manifest: 1 + 118 bytes at 16.
  (data (i32.const 16)
    "\00{\"name\":\"sleeper-wat\",\"version\":\"1.0.0\",\"abi\":1,\"hooks\":[\"approval\"],\"description\":\"sleeps in WASI on every approval\"}")
  ;; configure: OK, empty.
  (data (i32.const 200) "\00")
  ;; An answer, should the sleep ever end: 1 + 22 bytes at 208.
  (data (i32.const 208) "\00{\"decision\":\"abstain\"}")
  ;; Any other hook: an abi.Error, 1 + 39 bytes at 240.
  (data (i32.const 240) "\01{\"code\":2,\"message\":\"unsupported hook\"}")
  ;; One poll_oneoff subscription at 512: userdata 0, tag 0 (clock) at
  ;; 520, clock id 1 (monotonic) at 528, relative timeout 2^44 ns at 536,
  ;; precision 0, flags 0. The event is written at 600, the count at 640.
  (data (i32.const 528) "\01\00\00\00\00\00\00\00\00\00\00\00\00\10\00\00")

  (global $next (mut i32) (i32.const 1024))

  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))

  (func (export "codexhost_abi_version") (result i32) (i32.const 1))

  (func (export "codexhost_alloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local $end i32)
    (local $have i32)
    (local.set $ptr (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.lt_u (local.get $end) (local.get $ptr))
      (then (return (i32.const 0))))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow
                (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $next (local.get $end))
    (local.get $ptr))

  (func (export "codexhost_free") (param i32))

  (func (export "codexhost_describe") (result i64)
    (call $pack (i32.const 16) (i32.const 119)))

  (func (export "codexhost_configure") (param i32 i32) (result i64)
    (call $pack (i32.const 200) (i32.const 1)))

  (func (export "codexhost_handle") (param $hook i32) (param $ptr i32) (param $len i32) (result i64)
    ;; hook 1 is approval (abi.HookApproval)
    (if (i32.ne (local.get $hook) (i32.const 1))
      (then (return (call $pack (i32.const 240) (i32.const 40)))))
    (drop (call $poll_oneoff (i32.const 512) (i32.const 600) (i32.const 1) (i32.const 640)))
    (call $pack (i32.const 208) (i32.const 23)))
)
