;; abi99: a plugin built for a future ABI major version (99). The host must
;; refuse it at load time, naming both versions.
;;
;; Build: wat2wasm abi99.wat -o abi99.wasm  (or: make testdata)
(module
  (memory (export "memory") 1)
  (data (i32.const 16)
    "\00{\"name\":\"abi99\",\"version\":\"99.0.0\",\"abi\":99,\"hooks\":[\"approval\"]}")
  (func (export "codexhost_abi_version") (result i32) (i32.const 99))
  (func (export "codexhost_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "codexhost_free") (param i32))
  (func (export "codexhost_describe") (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 66)))
  (func (export "codexhost_configure") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 1)))
  (func (export "codexhost_handle") (param i32 i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 1)))
)
