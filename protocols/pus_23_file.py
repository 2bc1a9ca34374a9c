"""PUS service 23, file management (ECSS-E-ST-70-41C 6.23): this mission's one request is
TC(23,128), which queues a stored file for downlink by CFDP (flight/file_service.py); its path is
an argument of the dictionary's `file_downlink`. The file itself goes down as CFDP PDUs, not as
service 23 reports."""

SERVICE = 23
DOWNLINK = 128  # TC(23,128) (this mission's own subtype)
