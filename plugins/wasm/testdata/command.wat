;; command: a WASI command module (it exports _start), the shape of a Go
;; program built without -buildmode=c-shared. The host must refuse it.
;;
;; Build: wat2wasm command.wat -o command.wasm  (or: make testdata)
(module
  (memory (export "memory") 1)
  (func (export "_start")))
