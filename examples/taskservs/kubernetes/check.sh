set -eu
kubeadm version -o short && kubectl version --client
