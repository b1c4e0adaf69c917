"""T.4 and T.6 fax page codecs: bitmaps to coded page data and back.

Coded data is in transmission order with the first bit in the least significant bit of
each byte, as a Class 1 modem takes and gives it (TIFF FillOrder=2); `reverse_bits`
converts for consumers that want the most significant bit first.
"""

from drivers.t4.bits import reverse_bits
from drivers.t4.codec import Coding, decode_page, encode_page
from drivers.t4.errors import T4DecodeError

__all__ = ["Coding", "T4DecodeError", "decode_page", "encode_page", "reverse_bits"]
