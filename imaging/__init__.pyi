# The one list of imaging's exported names. mypy reads it as the package's interface;
# imaging/__init__.py hands it to lazy_loader, which imports each name on first use.
# Only "from .module import Name as Name" lines here (lazy_loader parses them).
from .archive import ArchivedPages as ArchivedPages
from .archive import prune_archive as prune_archive
from .cover import CoverInfo as CoverInfo
from .cover import CoverLabels as CoverLabels
from .cover import CoverTemplate as CoverTemplate
from .cover import cover_sheet as cover_sheet
from .cover import cover_sheet_pdf as cover_sheet_pdf
from .header import HeaderInfo as HeaderInfo
from .header import header_pdf as header_pdf
from .header import header_rows as header_rows
from .header import header_text as header_text
from .header import stamp_header as stamp_header
from .isolate import render_pdf_isolated as render_pdf_isolated
from .limits import DocumentRenderError as DocumentRenderError
from .limits import RenderLimits as RenderLimits
from .output import write_pdf as write_pdf
from .output import write_png as write_png
from .output import write_tiff as write_tiff
from .output import write_tiff_streaming as write_tiff_streaming
from .render import THRESHOLD as THRESHOLD
from .render import place as place
from .render import render_pdf as render_pdf
from .worker import RenderWorker as RenderWorker
