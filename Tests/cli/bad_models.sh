# Sourced by test_cli.sh and test_export.sh (which set root, tmp and failures).
# bad_models_clean DESCRIPTION ARGS-BEFORE-FILE... -- ARGS-AFTER-FILE...: the command answers
# every file of the bad-model corpus (Tests/Fixtures/bad) with exit 0 or 1 and at most one
# line on stderr: no trap, no backtrace.
bad_models_clean() {
    local what=$1 before=() after=() seen=0 f rc bad=0; shift
    for a in "$@"; do if [ "$a" = -- ]; then seen=1; elif [ $seen = 0 ]; then before+=("$a"); else after+=("$a"); fi; done
    for f in "$root"/Tests/Fixtures/bad/*.onnx; do
        "${before[@]}" "$f" "${after[@]}" >"$tmp/out" 2>"$tmp/err"; rc=$?
        if [ $rc -gt 1 ] || [ "$(wc -l < "$tmp/err")" -gt 1 ] || grep -qiE "backtrace|fatal error|Current stack" "$tmp/err"; then
            echo "FAIL $what: $(basename "$f") (exit $rc:)"; sed 's/^/     /' "$tmp/err" | head -5; bad=1
        fi
    done
    if [ $bad = 0 ]; then echo "ok   $what ($(ls "$root"/Tests/Fixtures/bad/*.onnx | wc -l) files)"; else failures=$((failures + 1)); fi
}
