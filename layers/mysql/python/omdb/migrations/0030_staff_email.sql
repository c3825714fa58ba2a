-- Staff password reset by mail (issue 18): a staff member may have an address the reset code is mailed to. Additive:
-- NULL for every existing member (no address, no reset by mail: a sys_admin or `python -m tools.admin
-- reset-password USER` sets the password).
ALTER TABLE staffs
  ADD COLUMN email VARCHAR(254) NULL;
