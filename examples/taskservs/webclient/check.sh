command -v wget >/dev/null
