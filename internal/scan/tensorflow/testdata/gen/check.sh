#!/bin/sh
# Decodes every fixture against the upstream schemas: SavedModel and Keras
# metadata with protoc and tf_subset.proto (no field may be unknown), TFLite
# with flatc and TensorFlow's schema.fbs, whose path is the first argument
# (tensorflow/compiler/mlir/lite/schema/schema.fbs in tensorflow or
# tflite-micro). Run from the package's testdata directory:
#   sh gen/check.sh /path/to/schema.fbs
set -eu
schema=${1:?path to TensorFlow Lite schema.fbs}
status=0
for f in *saved_model.pb malicious_*.pb; do
	case $f in *keras_metadata.pb) continue ;; esac
	out=$(protoc --decode=tensorflow.SavedModel gen/tf_subset.proto < "$f")
	if echo "$out" | grep -Eq '^ *[0-9]+[:{ ]'; then echo "$f: unknown fields"; status=1; else echo "$f: ok"; fi
done
for f in *keras_metadata.pb; do
	out=$(protoc --decode=tensorflow.SavedMetadata gen/tf_subset.proto < "$f")
	if echo "$out" | grep -Eq '^ *[0-9]+[:{ ]'; then echo "$f: unknown fields"; status=1; else echo "$f: ok"; fi
done
tmp=$(mktemp -d)
for f in *.tflite; do
	if flatc --json --strict-json --raw-binary -o "$tmp" "$schema" -- "$f" >/dev/null 2>&1; then echo "$f: ok"; else echo "$f: flatc refused it"; status=1; fi
done
rm -rf "$tmp"
exit $status
