/*
 * Multiboot (v1) entry for the freestanding test guests.
 *
 * The loader enters _start in 32-bit protected mode with flat CS/DS,
 * paging and interrupts off, EAX = 0x2BADB002, EBX = &multiboot_info.
 * We load our own flat GDT (the loader's GDTR may be invalid per the spec),
 * zero .bss, switch to a 16 KiB stack and call
 *     void guest_main(uint32_t magic, const struct multiboot_info *mbi);
 * If guest_main returns, the guest exits via debug_exit(0).
 */
#include "multiboot.h"

#define STACK_SIZE 16384

    .section .multiboot, "a"
    .balign 4
    .globl multiboot_header
multiboot_header:
    .long MULTIBOOT_HEADER_MAGIC
    .long MULTIBOOT_HEADER_FLAGS
    .long -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)

    .text
    .code32
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    /* Keep magic/mbi in ebp/esi; the code below only clobbers eax/ecx/edi. */
    movl %eax, %ebp          /* magic */
    movl %ebx, %esi          /* mbi   */

    lgdt gdt_desc
    ljmp $0x08, $1f
1:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss

    /* Zero .bss (a loader may or may not have done it). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    movl $stack_top, %esp
    xorl %eax, %eax
    pushl %eax               /* padding: esp is 16-byte aligned at the call */
    pushl %eax
    pushl %esi               /* mbi   */
    pushl %ebp               /* magic */
    xorl %ebp, %ebp
    call guest_main

    pushl $0
    call debug_exit
2:  cli
    hlt
    jmp 2b
    .size _start, . - _start

    .section .rodata
    .balign 8
gdt:
    .quad 0x0000000000000000 /* null */
    .quad 0x00CF9A000000FFFF /* 0x08: flat 32-bit code */
    .quad 0x00CF92000000FFFF /* 0x10: flat 32-bit data */
gdt_end:
    .balign 4
    .word 0
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .bss
    .balign 16
stack_bottom:
    .skip STACK_SIZE
    .globl stack_top
stack_top:

    .section .note.GNU-stack, "", @progbits
