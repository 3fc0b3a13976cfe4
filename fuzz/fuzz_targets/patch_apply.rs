// owned by the patch helper
