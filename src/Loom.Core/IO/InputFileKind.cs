namespace Loom.Core.IO;

/// <summary>What a path names, as stat(2) sees it after following symbolic links.</summary>
public enum InputFileKind
{
    /// <summary>Nothing at that path.</summary>
    Missing,
    /// <summary>A regular file (or a link to one): the only kind Loom reads.</summary>
    Regular,
    /// <summary>A directory (or a link to one).</summary>
    Directory,
    /// <summary>A symbolic link whose target does not exist.</summary>
    DanglingLink,
    /// <summary>A FIFO (named pipe): opening it blocks until a writer appears, and it can be read only once.</summary>
    Fifo,
    /// <summary>A socket.</summary>
    Socket,
    /// <summary>A character or block device.</summary>
    Device,
}
