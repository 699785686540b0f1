;; trapstart: a hostile module whose start function grows its memory to
;; its maximum (32 MiB), touches every page of it and traps, so that every
;; instantiation fails with that memory resident. The host must give the
;; memory back at once, not when a collection happens to run.
;;
;; Build: wat2wasm trapstart.wat -o trapstart.wasm  (or: make testdata)
(module
  (memory (export "memory") 1 512)
  (func $start
    (local $p i32)
    (local $end i32)
    (block $full
      (loop $grow
        (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $grow)))
    (local.set $end (i32.shl (memory.size) (i32.const 16)))
    (block $done
      (loop $touch
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (i32.store8 (local.get $p) (i32.const 1))
        (local.set $p (i32.add (local.get $p) (i32.const 4096)))
        (br $touch)))
    unreachable)
  (start $start)
)
