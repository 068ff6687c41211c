/* placeholder */ typedef int seg_placeholder_sha256;
