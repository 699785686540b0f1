;; misbehave: a plugin that breaks the ABI on request, to test how the host
;; contains it. The first byte of the request picks the misbehaviour:
;;
;;   o  a result outside the memory        -> FailBadOutput
;;   e  an empty result (no status byte)   -> FailBadOutput
;;   s  an unknown status byte             -> FailBadOutput
;;   j  an error result that is not JSON   -> FailBadOutput
;;   u  a trap (unreachable)               -> FailTrap
;;   g  grow the memory past any limit, then trap -> FailMemory
;;   l  loop forever                       -> FailTimeout
;;   p  print 2000 lines of 100 bytes to stdout, then answer
;;   L  log "hello from wat" through codexhost.log, then answer
;;   w  log "hello from wat" twice, then loop forever (the log line tells
;;      a test that the call is running)  -> FailTimeout
;;   anything else: answer {"decision":"abstain"}
;;
;; codexhost_alloc refuses (returns 0) buffers over 1 MiB.
;;
;; Build: wat2wasm misbehave.wat -o misbehave.wasm  (or: make testdata)
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "codexhost" "log" (func $log (param i32 i32 i32)))

  (memory (export "memory") 1)

  ;; manifest: 1 + 67 bytes at 16
  (data (i32.const 16)
    "\00{\"name\":\"misbehave\",\"version\":\"0.1.0\",\"abi\":1,\"hooks\":[\"approval\"]}")
  ;; OK, empty payload: 1 byte at 200
  (data (i32.const 200) "\00")
  ;; abstain: 1 + 22 bytes at 208
  (data (i32.const 208) "\00{\"decision\":\"abstain\"}")
  ;; unknown status: 3 bytes at 240
  (data (i32.const 240) "\07{}")
  ;; error result that is not JSON: 1 + 8 bytes at 248
  (data (i32.const 248) "\01not json")
  ;; the iovec for fd_write at 700: {buf=800, len=100}
  (data (i32.const 700) "\20\03\00\00\64\00\00\00")
  ;; a line of output at 800: 99 x and a newline
  (data (i32.const 800)
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n")
  ;; a log line at 920: 14 bytes
  (data (i32.const 920) "hello from wat")

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
    (if (i32.gt_u (local.get $size) (i32.const 1048576))
      (then (return (i32.const 0))))
    (local.set $ptr
      (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow
                (i32.shr_u
                  (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535))
                  (i32.const 16)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $next (local.get $end))
    (local.get $ptr))

  (func (export "codexhost_free") (param i32))

  (func (export "codexhost_describe") (result i64)
    (call $pack (i32.const 16) (i32.const 68)))

  (func (export "codexhost_configure") (param i32 i32) (result i64)
    (call $pack (i32.const 200) (i32.const 1)))

  (func (export "codexhost_handle") (param $hook i32) (param $ptr i32) (param $len i32) (result i64)
    (local $op i32)
    (local $i i32)
    (if (i32.eqz (local.get $len))
      (then (return (call $pack (i32.const 208) (i32.const 23)))))
    (local.set $op (i32.load8_u (local.get $ptr)))
    ;; o: a result far outside the memory
    (if (i32.eq (local.get $op) (i32.const 111))
      (then (return (call $pack (i32.const 0x7fff0000) (i32.const 10)))))
    ;; e: an empty result
    (if (i32.eq (local.get $op) (i32.const 101))
      (then (return (call $pack (i32.const 200) (i32.const 0)))))
    ;; s: status 7
    (if (i32.eq (local.get $op) (i32.const 115))
      (then (return (call $pack (i32.const 240) (i32.const 3)))))
    ;; j: an error that is not JSON
    (if (i32.eq (local.get $op) (i32.const 106))
      (then (return (call $pack (i32.const 248) (i32.const 9)))))
    ;; u: trap
    (if (i32.eq (local.get $op) (i32.const 117))
      (then unreachable))
    ;; g: grow by 60000 pages (3.7 GiB), then trap if refused
    (if (i32.eq (local.get $op) (i32.const 103))
      (then
        (if (i32.eq (memory.grow (i32.const 60000)) (i32.const -1))
          (then unreachable))
        (return (call $pack (i32.const 208) (i32.const 23)))))
    ;; l: loop forever
    (if (i32.eq (local.get $op) (i32.const 108))
      (then (loop $forever (br $forever))))
    ;; p: 2000 lines to stdout (fd 1); nwritten goes to 712
    (if (i32.eq (local.get $op) (i32.const 112))
      (then
        (local.set $i (i32.const 0))
        (block $done
          (loop $more
            (br_if $done (i32.ge_u (local.get $i) (i32.const 2000)))
            (drop (call $fd_write (i32.const 1) (i32.const 700) (i32.const 1) (i32.const 712)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $more)))))
    ;; w: log at info level, then loop forever
    (if (i32.eq (local.get $op) (i32.const 119))
      (then
        (call $log (i32.const 0) (i32.const 920) (i32.const 14))
        (call $log (i32.const 0) (i32.const 920) (i32.const 14))
        (loop $forever2 (br $forever2))))
    ;; L: log at info level (0)
    (if (i32.eq (local.get $op) (i32.const 76))
      (then (call $log (i32.const 0) (i32.const 920) (i32.const 14))))
    (call $pack (i32.const 208) (i32.const 23)))
)
