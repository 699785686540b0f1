;; answer-token-bomb: answers every call, in a few milliseconds, with 16 MiB
;; of valid JSON: {"decision":"abstain","x":[0,0,0,...]} (an unknown member,
;; which the ABI says is ignored) -- 8 million tokens, within the result cap.
;; Expect: the chain's decoding of the answer (strictjson: a json.Decoder
;; Token per value, then encoding/json) is bounded like the call is.
;;
;; A guest of the hostile-plugin suite (plugins/internal/hostile), round 11.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "\00{\22name\22:\22hostile-answer-token-bomb\22,\22version\22:\220.1.0\22,\22abi\22:1,\22hooks\22:[\22approval\22]}")
  (data (i32.const 200) "\00")
  (data (i32.const 300) "\00{\22decision\22:\22abstain\22,\22x\22:[")
  (global $next (mut i32) (i32.const 4096))
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "codexhost_abi_version") (result i32) (i32.const 1))
  (func (export "codexhost_alloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 1))))))
    (local.get $ptr))
  (func (export "codexhost_free") (param $p i32))
  (func (export "codexhost_describe") (result i64) (call $pack (i32.const 16) (i32.const 84)))
  (func (export "codexhost_configure") (param i32 i32) (result i64) (call $pack (i32.const 200) (i32.const 1)))
  ;; the answer at 1 MiB: 28 bytes of head, "0," up to 16 MiB, then "0]}"
  (func (export "codexhost_handle") (param $hook i32) (param $ptr i32) (param $len i32) (result i64)
    (local $p i32) (local $end i32)
    (if (i32.lt_u (memory.size) (i32.const 300))
      (then (drop (memory.grow (i32.sub (i32.const 300) (memory.size))))))
    (memory.copy (i32.const 0x100000) (i32.const 300) (i32.const 28))
    (local.set $p (i32.const 0x10001c))
    ;; 1 status byte + 16 MiB of JSON: end = start + 1 + 16 MiB - 3
    (local.set $end (i32.add (i32.const 0x100000) (i32.const 0xfffffe)))
    ;; "0," once, then doubled with memory.copy (cheap for the guest)
    (i32.store16 (local.get $p) (i32.const 0x2c30))
    (local.set $p (i32.add (local.get $p) (i32.const 2)))
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (memory.copy (local.get $p) (i32.const 0x10001c)
          (select (i32.sub (local.get $p) (i32.const 0x10001c)) (i32.sub (local.get $end) (local.get $p))
            (i32.lt_u (i32.sub (local.get $p) (i32.const 0x10001c)) (i32.sub (local.get $end) (local.get $p)))))
        (local.set $p (i32.add (local.get $p)
          (select (i32.sub (local.get $p) (i32.const 0x10001c)) (i32.sub (local.get $end) (local.get $p))
            (i32.lt_u (i32.sub (local.get $p) (i32.const 0x10001c)) (i32.sub (local.get $end) (local.get $p))))))
        (br $fill)))
    (i32.store8 (local.get $p) (i32.const 0x30))
    (i32.store8 (i32.add (local.get $p) (i32.const 1)) (i32.const 0x5d))
    (i32.store8 (i32.add (local.get $p) (i32.const 2)) (i32.const 0x7d))
    (call $pack (i32.const 0x100000) (i32.sub (i32.add (local.get $p) (i32.const 3)) (i32.const 0x100000))))
)
