/* placeholder */ typedef int seg_placeholder_session;
