/* placeholder */ typedef int seg_kernels_placeholder;
