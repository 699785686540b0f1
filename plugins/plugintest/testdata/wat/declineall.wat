;; declineall: a codexhost plugin written by hand in the WebAssembly text
;; format, from docs/abi.md alone. It proves that the ABI needs no Go: it
;; declines every approval request and implements no other hook.
;;
;; Build: wat2wasm declineall.wat -o declineall.wasm  (or: make testdata)
(module
  ;; One page is plenty; codexhost_alloc grows the memory on demand.
  (memory (export "memory") 1)

  ;; Packed results point into these static bytes. Each one starts with its
  ;; status byte: \00 OK, \01 error.
  ;;
  ;; The manifest (describe): 142 bytes at offset 16 (1 status byte + 141 bytes of JSON).
  (data (i32.const 16)
    "\00{\"name\":\"declineall-wat\",\"version\":\"1.0.0\",\"abi\":1,\"hooks\":[\"approval\"],"
    "\"description\":\"declines every approval; written in WebAssembly text\"}")
  ;; configure: OK with an empty payload, 1 byte at offset 512.
  (data (i32.const 512) "\00")
  ;; The approval response: 1 + 57 bytes at offset 528.
  (data (i32.const 528) "\00{\"decision\":\"decline\",\"reason\":\"declined by a WAT guest\"}")
  ;; Any other hook: an abi.Error, 1 + 39 bytes at offset 640.
  (data (i32.const 640) "\01{\"code\":2,\"message\":\"unsupported hook\"}")

  ;; The bump allocator's next free byte; everything below 1024 is static.
  (global $next (mut i32) (i32.const 1024))

  (func (export "codexhost_abi_version") (result i32)
    (i32.const 1))

  ;; pack(ptr, len) = ptr << 32 | len
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))

  ;; codexhost_alloc(size) -> ptr: bump allocation, 8-byte aligned,
  ;; growing the memory as needed; 0 when memory.grow fails.
  (func (export "codexhost_alloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local $end i32)
    (local $have i32)
    (local.set $ptr
      (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    ;; overflow past 4 GiB
    (if (i32.lt_u (local.get $end) (local.get $ptr))
      (then (return (i32.const 0))))
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

  ;; codexhost_free(ptr): a bump allocator frees nothing.
  (func (export "codexhost_free") (param $ptr i32))

  (func (export "codexhost_describe") (result i64)
    (call $pack (i32.const 16) (i32.const 142)))

  (func (export "codexhost_configure") (param $ptr i32) (param $len i32) (result i64)
    (call $pack (i32.const 512) (i32.const 1)))

  ;; codexhost_handle(hook, ptr, len): hook 1 (approval) declines; any other
  ;; hook is an "unsupported hook" error.
  (func (export "codexhost_handle") (param $hook i32) (param $ptr i32) (param $len i32) (result i64)
    (if (result i64) (i32.eq (local.get $hook) (i32.const 1))
      (then (call $pack (i32.const 528) (i32.const 58)))
      (else (call $pack (i32.const 640) (i32.const 40)))))
)
