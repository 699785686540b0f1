;; hang: a hostile module that loops forever at start-up, in _initialize
;; (when imported as "init") or in describe. The host must stop it at the
;; load deadline and refuse the plugin, never hang.
;;
;; Build: wat2wasm hang.wat -o hang.wasm  (or: make testdata)
(module
  (memory (export "memory") 1)
  (func (export "_initialize") (loop $forever (br $forever)))
  (func (export "codexhost_abi_version") (result i32) (i32.const 1))
  (func (export "codexhost_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "codexhost_free") (param i32))
  (func (export "codexhost_describe") (result i64) (loop $forever (br $forever)) (i64.const 0))
  (func (export "codexhost_configure") (param i32 i32) (result i64) (i64.const 0))
  (func (export "codexhost_handle") (param i32 i32 i32) (result i64) (i64.const 0))
)
